"""`/directive` (access admins): the form, the impact preview and confirmation, list, lift and report."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.directives import CITIZENSHIP, USERS, DirectiveError, check_draft
from bot.domain.text import parse_db_id
from bot.present.replies import Notice, Reply, Screen
from bot.present.status import catalog_entries
from bot.services import directives
from bot.services.context import Refusal
from bot.slack import ids
from bot.slack.command_text import DirectiveCommand, parse_directive
from bot.slack.commands import read_command
from bot.slack.payloads import Command, Submission, parse
from bot.slack.surfaces import Surfaces
from bot.slack.views import UNREADABLE_FORM, form_error

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


# The datetimepicker sends seconds since the epoch; anything outside these years is not a date a person
# picked (Slack's picker itself offers nothing like it).
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def _field(form: Submission, block: str) -> dict[str, Any]:
    return form.field(block, block + ids.INPUT_SUFFIX)


def _text(form: Submission, block: str) -> str:
    return form.text(block, block + ids.INPUT_SUFFIX)


def _choice(form: Submission, block: str) -> str:
    return form.selected(block, block + ids.INPUT_SUFFIX) or ""


def _population(form: Submission) -> tuple[str, str]:
    """The population text and the block to blame if it is wrong."""
    choice = _choice(form, ids.DIRECTIVE_POPULATION_BLOCK)
    if choice == CITIZENSHIP:
        return f"{CITIZENSHIP}:{_text(form, ids.DIRECTIVE_COUNTRIES_BLOCK)}", ids.DIRECTIVE_COUNTRIES_BLOCK
    if choice == USERS:
        picked = _field(form, ids.DIRECTIVE_USERS_BLOCK).get("selected_users")
        users = [u for u in picked if isinstance(u, str)] if isinstance(picked, list) else []
        return f"{USERS}:{';'.join(users)}", ids.DIRECTIVE_USERS_BLOCK
    return choice, ids.DIRECTIVE_POPULATION_BLOCK


def _effective(form: Submission) -> datetime | None:
    """The picked effective time, or None when none was picked. Raises DirectiveError for a value that is
    not a time (a number of seconds between 2000 and 9999)."""
    picked = _field(form, ids.DIRECTIVE_EFFECTIVE_BLOCK).get("selected_date_time")
    if picked is None:
        return None
    if isinstance(picked, bool) or not isinstance(picked, int):
        raise DirectiveError("Pick the effective date and time with the picker.", field="effective")
    if not _EARLIEST.timestamp() <= picked <= _LATEST.timestamp():
        raise DirectiveError("Pick an effective date and time between 2000 and 9999.", field="effective")
    return datetime.fromtimestamp(picked, UTC)


class DirectiveListeners:
    """`/directive`, the directive form (which answers with the impact preview) and its confirmation."""

    def __init__(self, surfaces: Surfaces):
        self.ctx = surfaces.ctx
        self.responder = surfaces.responder

    def command(self, ack: Ack, command: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        """`/directive [list | lift D3 [reason] | report D3 | help]`; without text, opens the form."""
        read = read_command(self.responder, ack, command, "/directive", parse_directive)
        if read is None:
            return
        got, parsed = read
        if parsed.action == "form":
            self.open_form(ack, client, got, context)
            return
        self.responder.answer_command(
            ack,
            context,
            got.response_url,
            got.user_id,
            lambda: self.answer(parsed, got.user_id),
            acts=parsed.action == "lift",
        )

    def open_form(self, ack: Ack, client: WebClient, command: Command, context: dict[str, Any]) -> None:
        """Open the directive form for an access admin; anyone else is told why not in the ack."""
        ctx, responder = self.ctx, self.responder
        user_id = command.user_id

        def allowed() -> None:
            directives.require_admin(ctx, user_id, "issue directives")

        answer = responder.wait(responder.run(allowed, context, acts=False), context)
        if answer is not None and answer.refusal is not None and answer.reply is not None:
            responder.ack(ack, answer.reply)
            return
        ack()
        if answer is None:  # the permission check is still running: trigger_id would expire meanwhile
            message = Notice("I am busy right now; please run `/directive` again.", tone="warning")
            responder.respond_later(command.response_url, message, user_id=user_id)
            return
        with ctx.read() as session:
            view = responder.render(Screen("directive_modal", {"models": catalog_entries(ctx, session)}))
        try:
            client.views_open(trigger_id=command.trigger_id, view=view)
        except SlackApiError as error:
            log.warning("views.open for the directive form failed: %s", error.response.get("error"))
            message = Notice(
                "I could not open the form in time; please run `/directive` again.", tone="warning"
            )
            responder.respond_later(command.response_url, message, user_id=user_id)

    def answer(self, parsed: DirectiveCommand, user_id: str) -> Reply:
        """The message for a parsed subcommand (not `form`). Raises Refusal for non-admins."""
        ctx = self.ctx
        if parsed.action == "help":
            return Notice(HELP, title="Directives (access admins)")
        if parsed.action == "list":
            directives.require_admin(ctx, user_id, "list directives")
            with ctx.read() as session:
                return Screen(
                    "directive_list",
                    {"directives": [d.as_json() for d in directives.list_directives(session)]},
                )
        if parsed.action == "report":
            directives.require_admin(ctx, user_id, "see directive reports")
            return Screen(
                "directive_report",
                {"report": directives.report_summary(ctx, parsed.target_id or 0).as_json()},
            )
        if parsed.action == "lift":
            lifted = directives.lift(
                ctx, actor=user_id, directive_id=parsed.target_id or 0, reason=parsed.reason
            )
            kept = (
                f"; {lifted.still_suspended} stay suspended under other directives"
                if lifted.still_suspended
                else ""
            )
            return Notice(
                f"Lifted D{lifted.directive.id}: {lifted.reinstated} grant(s) reinstated{kept}. "
                "Everyone it affected and its channels are being told.",
                tone="success",
            )
        raise AssertionError(parsed.action)

    def form_submitted(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The directive form: a field error in the form, or the form replaced by the impact preview."""
        form = parse(Submission, body, "directive form")
        if form is None:
            ack(response_action="errors", errors={ids.DIRECTIVE_TITLE_BLOCK: UNREADABLE_FORM})
            return
        user_id = form.user.id
        population, population_block = _population(form)
        try:
            draft = check_draft(
                title=_text(form, ids.DIRECTIVE_TITLE_BLOCK),
                authority=_text(form, ids.DIRECTIVE_AUTHORITY_BLOCK),
                reference=_text(form, ids.DIRECTIVE_REFERENCE_BLOCK),
                notice=_text(form, ids.DIRECTIVE_NOTICE_BLOCK),
                models=form.selected_many(
                    ids.DIRECTIVE_MODELS_BLOCK, ids.DIRECTIVE_MODELS_BLOCK + ids.INPUT_SUFFIX
                ),
                known_models=set(self.ctx.catalog.models),
                population=population,
                action=_choice(form, ids.DIRECTIVE_ACTION_BLOCK),
                effective_at=_effective(form),
                now=self.ctx.clock(),
            )
        except DirectiveError as error:
            block = population_block if error.field == "population" else _BLOCKS.get(error.field or "title")
            ack(response_action="errors", errors={block or ids.DIRECTIVE_TITLE_BLOCK: form_error(str(error))})
            return

        def preview() -> Reply:
            return directives.preview(self.ctx, actor=user_id, draft=draft)

        answer = self.responder.wait(self.responder.run(preview, context), context)
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
        elif answer.reply is not None:
            ack(response_action="update", view=self.responder.render(answer.reply))

    def confirmed(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The preview's Confirm: issues the draft named by private_metadata."""
        # Close the form at once; the admin's DM shows the result and delivery progress.
        ack()
        form = parse(Submission, body, "directive confirmation")
        if form is not None:
            self.responder.background.submit(self._confirm, form.user.id, form.view.private_metadata, context)

    def _confirm(self, user_id: str, metadata: str, context: dict[str, Any]) -> None:
        draft_id = parse_db_id(metadata)

        def confirm() -> None:
            if draft_id is None:
                raise Refusal("That form is not one of mine, so nothing was changed.")
            directives.issue(self.ctx, actor=user_id, draft_id=draft_id, progress_to=user_id)

        answer = self.responder.attempt(confirm, context)
        if answer.refusal is not None and not answer.repeat:
            self.responder.tell(user_id, answer.reply)


def register(app: App, surfaces: Surfaces) -> DirectiveListeners:
    """Register `/directive` and its two views on `app`; returns the listeners for tests."""
    listeners = DirectiveListeners(surfaces)
    app.command(ids.DIRECTIVE_COMMAND)(listeners.command)
    app.view(ids.DIRECTIVE_VIEW)(listeners.form_submitted)
    app.view(ids.DIRECTIVE_CONFIRM_VIEW)(listeners.confirmed)
    return listeners
