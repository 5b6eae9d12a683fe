"""`/directive` (access admins): the form, the impact preview and confirmation, list, lift and report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App

from bot.domain.directives import CITIZENSHIP, USERS, DirectiveError, check_draft
from bot.domain.text import parse_db_id
from bot.present.replies import Notice, Reply, Screen
from bot.present.status import catalog_entries
from bot.services import directives
from bot.services.context import Refusal
from bot.slack import ids
from bot.slack.command_text import DirectiveCommand, parse_directive
from bot.slack.commands import RoleCommandListeners
from bot.slack.payloads import Submission, parse
from bot.slack.surfaces import Surfaces
from bot.slack.views import UNREADABLE_FORM, form_error

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


class DirectiveListeners(RoleCommandListeners[DirectiveCommand]):
    """`/directive [list | lift D3 [reason] | report D3 | help]` (without text, the form for access admins),
    the directive form (which answers with the impact preview) and its confirmation."""

    slash = ids.DIRECTIVE_COMMAND
    acting = frozenset({"lift"})

    def parse_text(self, text: str) -> DirectiveCommand:
        return parse_directive(text)

    def allowed(self, user_id: str) -> None:
        directives.require_admin(self.ctx, user_id, "issue directives")

    def usable(self, user_id: str) -> None:
        directives.require_admin(self.ctx, user_id, f"use {self.slash}")

    def form_view(self) -> dict[str, Any]:
        with self.ctx.read() as session:
            return self.responder.render(
                Screen("directive_modal", {"models": catalog_entries(self.ctx, session)})
            )

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
