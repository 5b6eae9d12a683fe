"""`/directive` (access admins): the form, the impact preview and confirmation, list, lift and report."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.directives import CITIZENSHIP, USERS, DirectiveError, check_draft
from bot.services import directives
from bot.services.context import Refusal
from bot.services.queries import catalog_entries
from bot.slack import ids
from bot.slack.command_text import CommandError, DirectiveCommand, parse_directive
from bot.slack.responder import ack_ephemeral
from bot.slack.surfaces import Surfaces
from bot.slack.views import form_error

log = logging.getLogger(__name__)

HELP = (
    "*`/directive`* opens the form: title, authority, reference, notice, models, who is affected, action "
    "and when. You see the impact before anything changes.\n"
    "*`/directive list`* shows every directive\n"
    "*`/directive lift D3 [reason]`* lifts one: grants it suspended come back, and everyone it touched "
    "is told\n"
    "*`/directive report D3`* counts who it affected and what happened to them"
)
_BLOCKS = {
    "title": ids.DIRECTIVE_TITLE_BLOCK,
    "authority": ids.DIRECTIVE_AUTHORITY_BLOCK,
    "reference": ids.DIRECTIVE_REFERENCE_BLOCK,
    "notice": ids.DIRECTIVE_NOTICE_BLOCK,
    "models": ids.DIRECTIVE_MODELS_BLOCK,
    "action": ids.DIRECTIVE_ACTION_BLOCK,
    "effective": ids.DIRECTIVE_EFFECTIVE_BLOCK,
}


def _value(view: dict[str, Any], block: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return values.get(block, {}).get(block + ids.INPUT_SUFFIX) or {}


def _population(view: dict[str, Any]) -> tuple[str, str]:
    """The population text and the block to blame if it is wrong."""
    choice = ((_value(view, ids.DIRECTIVE_POPULATION_BLOCK).get("selected_option") or {}).get("value")) or ""
    if choice == CITIZENSHIP:
        countries = _value(view, ids.DIRECTIVE_COUNTRIES_BLOCK).get("value") or ""
        return f"{CITIZENSHIP}:{countries}", ids.DIRECTIVE_COUNTRIES_BLOCK
    if choice == USERS:
        users = _value(view, ids.DIRECTIVE_USERS_BLOCK).get("selected_users") or []
        return f"{USERS}:{';'.join(users)}", ids.DIRECTIVE_USERS_BLOCK
    return choice, ids.DIRECTIVE_POPULATION_BLOCK


def register(app: App, surfaces: Surfaces) -> None:
    ctx, responder = surfaces.ctx, surfaces.responder

    @app.command(ids.DIRECTIVE_COMMAND)
    def directive(ack: Ack, command: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        user_id = command["user_id"]
        try:
            parsed = parse_directive(command.get("text", ""))
        except CommandError as error:
            ack_ephemeral(ack, ctx.notice(str(error), tone="warning"))
            return
        if parsed.action == "form":
            open_form(ack, client, command, context)
            return
        responder.answer_command(ack, context, command["response_url"], lambda: run(parsed, user_id))

    def open_form(ack: Ack, client: WebClient, command: dict[str, Any], context: dict[str, Any]) -> None:
        user_id = command["user_id"]

        def allowed() -> dict[str, Any]:
            directives.require_admin(ctx, user_id, "issue directives")
            return {}

        answer = responder.wait(responder.run(allowed), context)
        if answer is not None and answer.refusal is not None:
            ack_ephemeral(ack, answer.message)
            return
        ack()
        if answer is None:  # the permission check is still running: trigger_id would expire meanwhile
            message = ctx.notice("I am busy right now; please run `/directive` again.", tone="warning")
            responder.respond_later(command["response_url"], message)
            return
        with ctx.db.read() as session:
            view = ctx.render("directive_modal", models=catalog_entries(ctx, session))
        try:
            client.views_open(trigger_id=command["trigger_id"], view=view)
        except SlackApiError as error:
            log.warning("views.open for the directive form failed: %s", error.response.get("error"))
            responder.respond_later(
                command["response_url"],
                ctx.notice(
                    "I could not open the form in time; please run `/directive` again.", tone="warning"
                ),
            )

    def run(parsed: DirectiveCommand, user_id: str) -> dict[str, Any]:
        if parsed.action == "help":
            return ctx.notice(HELP, title="Directives (access admins)")
        if parsed.action == "list":
            directives.require_admin(ctx, user_id, "list directives")
            with ctx.db.read() as session:
                return ctx.render("directive_list", directives=directives.list_directives(session))
        if parsed.action == "report":
            directives.require_admin(ctx, user_id, "see directive reports")
            return ctx.render(
                "directive_report", report=directives.report_summary(ctx, parsed.target_id or 0)
            )
        if parsed.action == "lift":
            lifted = directives.lift(
                ctx, actor=user_id, directive_id=parsed.target_id or 0, reason=parsed.reason
            )
            label = f"D{lifted.directive.id}"
            kept = (
                f"; {lifted.still_suspended} stay suspended under other directives"
                if lifted.still_suspended
                else ""
            )
            return ctx.notice(
                f"Lifted {label}: {lifted.reinstated} grant(s) reinstated{kept}. "
                "Everyone it affected and its channels are being told.",
                tone="success",
            )
        raise AssertionError(parsed.action)

    @app.view(ids.DIRECTIVE_VIEW)
    def form_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        population, population_block = _population(view)
        picked = _value(view, ids.DIRECTIVE_EFFECTIVE_BLOCK).get("selected_date_time")
        try:
            draft = check_draft(
                title=_value(view, ids.DIRECTIVE_TITLE_BLOCK).get("value") or "",
                authority=_value(view, ids.DIRECTIVE_AUTHORITY_BLOCK).get("value") or "",
                reference=_value(view, ids.DIRECTIVE_REFERENCE_BLOCK).get("value") or "",
                notice=_value(view, ids.DIRECTIVE_NOTICE_BLOCK).get("value") or "",
                models=[
                    o["value"] for o in _value(view, ids.DIRECTIVE_MODELS_BLOCK).get("selected_options") or []
                ],
                known_models=set(ctx.catalog.models),
                population=population,
                action=((_value(view, ids.DIRECTIVE_ACTION_BLOCK).get("selected_option") or {}).get("value"))
                or "",
                effective_at=datetime.fromtimestamp(int(picked), UTC) if picked else None,
                now=ctx.clock(),
            )
        except DirectiveError as error:
            block = population_block if error.field == "population" else _BLOCKS.get(error.field or "title")
            ack(response_action="errors", errors={block or ids.DIRECTIVE_TITLE_BLOCK: form_error(str(error))})
            return

        answer = responder.wait(
            responder.run(lambda: directives.preview(ctx, actor=user_id, draft=draft)), context
        )
        if answer is None:
            ack(
                response_action="errors",
                errors={ids.DIRECTIVE_TITLE_BLOCK: "I am busy right now; submit again."},
            )
        elif answer.refusal is not None:
            ack(
                response_action="errors",
                errors={ids.DIRECTIVE_TITLE_BLOCK: form_error(answer.refusal.message)},
            )
        else:
            ack(response_action="update", view=answer.message)

    @app.view(ids.DIRECTIVE_CONFIRM_VIEW)
    def confirmed(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]) -> None:
        # Close the form at once; the admin's DM shows the result and delivery progress.
        ack()
        user_id = body["user"]["id"]
        metadata = str(view.get("private_metadata") or "")

        def confirm() -> dict[str, Any]:
            if not metadata.isdigit():
                raise Refusal("That form is not one of mine, so nothing was changed.")
            directives.issue(ctx, actor=user_id, draft_id=int(metadata), progress_to=user_id)
            return {}

        def run() -> None:
            answer = responder.attempt(confirm)
            if answer.refusal is not None:
                responder.tell(user_id, answer.message)

        responder.later(run)
