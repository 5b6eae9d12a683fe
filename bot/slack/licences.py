"""`/licence` (export compliance and access admins): the form that records an export licence, list and
revoke. Built like `/directive` (bot/slack/directives.py): the role is checked on the server for every
subcommand and again when the form is submitted (a form can outlive a role)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.domain.licences import LicenceError, utc_day
from bot.present.licences import licence_form_data, licence_list_data, recorded_notice, revoked_notice
from bot.present.replies import Notice, Reply, Screen
from bot.services.context import Refusal
from bot.services.licence_access import require_licence_officer
from bot.services.licences import licence_on_record, licences_on_record, record_licence, revoke_licence
from bot.slack import ids
from bot.slack.command_text import LicenceCommand, parse_licence
from bot.slack.commands import RoleCommandListeners
from bot.slack.options import directive_label, option, query_of
from bot.slack.payloads import Submission, parse
from bot.slack.surfaces import Surfaces
from bot.slack.views import UNREADABLE_FORM, finish_form

log = logging.getLogger(__name__)

HELP = (
    "*`/licence`* opens the form to record an export licence as the authority issued it: number, "
    "authority, kind, holder, models, countries and dates. Access that depends on it is re-checked at "
    "once.\n"
    "*`/licence list [@person]`* shows the licences on record, or one person's\n"
    "*`/licence revoke L3 <reason>`* revokes one: grants that depended on it are suspended unless "
    "another licence covers them, and their holders are told\n"
    "From a terminal or a script: `accessbot licence add | import | list | show | revoke`."
)
HELP_TITLE = "Export licences (export compliance and access admins)"

# The form's block for each field parse_terms and record_licence name in a LicenceError; anything
# else (a role refusal, a licence already on record) is shown on the first block.
_BLOCKS = {
    "number": ids.LICENCE_NUMBER_BLOCK,
    "authority": ids.LICENCE_AUTHORITY_BLOCK,
    "kind": ids.LICENCE_KIND_BLOCK,
    "holder": ids.LICENCE_HOLDER_BLOCK,
    "models": ids.LICENCE_MODELS_BLOCK,
    "countries": ids.LICENCE_COUNTRIES_BLOCK,
    "valid_from": ids.LICENCE_VALID_FROM_BLOCK,
    "valid_until": ids.LICENCE_VALID_UNTIL_BLOCK,
    "conditions": ids.LICENCE_CONDITIONS_BLOCK,
}


def _sentence(error: LicenceError) -> str:
    """A LicenceError's message (written to follow "error: " at the command line) as a sentence, with
    the date fields named as the form labels them. Messages about the dates quote only dates (the
    picker sends nothing else), so the renaming cannot change anything a person typed."""
    text = str(error)
    if error.field in ("valid_from", "valid_until"):
        text = text.replace("valid_from", "valid from").replace("valid_until", "valid until")
    return text[:1].upper() + text[1:]


def _refusal(error: LicenceError) -> Refusal:
    return Refusal(_sentence(error), field=error.field)


def _error_block(refusal: Refusal) -> str:
    return _BLOCKS.get(refusal.field or "", ids.LICENCE_NUMBER_BLOCK)


def help_notice(parsed: LicenceCommand) -> Notice:
    """The help, led by what was wrong when the subcommand was not one."""
    if not parsed.unknown:
        return Notice(HELP, title=HELP_TITLE)
    hint = f" Did you mean `/licence {parsed.suggestion}`?" if parsed.suggestion else ""
    # What was typed goes in as a value, never into the text itself (see Notice).
    return Notice(
        "I don't know `/licence {typed}`." + hint + "\n" + HELP,
        title=HELP_TITLE,
        tone="warning",
        values={"typed": parsed.unknown},
    )


def form_fields(form: Submission) -> dict[str, str | None]:
    """The licence form's state as the fields parse_terms reads (models joined with `;`, the holder as
    the picked user ID, dates as YYYY-MM-DD)."""

    def text(block: str) -> str:
        return form.text(block, block + ids.INPUT_SUFFIX)

    return {
        "number": text(ids.LICENCE_NUMBER_BLOCK),
        "authority": text(ids.LICENCE_AUTHORITY_BLOCK),
        "kind": form.selected(ids.LICENCE_KIND_BLOCK, ids.LICENCE_KIND_BLOCK + ids.INPUT_SUFFIX),
        "holder": form.selected_user(ids.LICENCE_HOLDER_BLOCK, ids.LICENCE_HOLDER_BLOCK + ids.INPUT_SUFFIX),
        "models": ";".join(form.selected_many(ids.LICENCE_MODELS_BLOCK, ids.LICENCE_MODELS_ACTION)),
        "countries": text(ids.LICENCE_COUNTRIES_BLOCK),
        "valid_from": form.selected_date(
            ids.LICENCE_VALID_FROM_BLOCK, ids.LICENCE_VALID_FROM_BLOCK + ids.INPUT_SUFFIX
        ),
        "valid_until": form.selected_date(
            ids.LICENCE_VALID_UNTIL_BLOCK, ids.LICENCE_VALID_UNTIL_BLOCK + ids.INPUT_SUFFIX
        ),
        "conditions": text(ids.LICENCE_CONDITIONS_BLOCK),
    }


class LicenceListeners(RoleCommandListeners[LicenceCommand]):
    """`/licence [list [@person] | revoke L3 <reason> | help]` (without text, the form for export compliance
    and access admins), the licence form's submission, and the options of its model search."""

    slash = ids.LICENCE_COMMAND
    acting = frozenset({"revoke"})

    def parse_text(self, text: str) -> LicenceCommand:
        return parse_licence(text)

    def allowed(self, user_id: str) -> None:
        require_licence_officer(self.ctx, user_id, "record licences", subject="form")

    def usable(self, user_id: str) -> None:
        require_licence_officer(self.ctx, user_id, f"use {self.slash}", subject="command")

    def form_view(self) -> dict[str, Any]:
        return self.responder.render(Screen("licence_modal", licence_form_data(self.ctx.catalog)))

    def answer_now(self, parsed: LicenceCommand) -> Reply | None:
        # Help says what the command does and who may use it; it reads nothing and changes nothing.
        return help_notice(parsed) if parsed.action == "help" else None

    def answer(self, parsed: LicenceCommand, user_id: str) -> Reply:
        """The message for `list` or `revoke`. Raises Refusal for people without either role, and for a
        licence that cannot be revoked (unknown, already ended, a reason too long)."""
        ctx = self.ctx
        if parsed.action == "list":
            require_licence_officer(ctx, user_id, "list licences", subject="list")
            found = licences_on_record(ctx, holder_id=parsed.holder_id)
            today = utc_day(ctx.clock())
            return Screen("licence_list", licence_list_data(found, holder=parsed.holder_id, today=today))
        if parsed.action == "revoke":
            licence_id = parsed.target_id or 0
            require_licence_officer(ctx, user_id, "revoke licences", subject=licence_id)
            try:
                change = revoke_licence(ctx, licence_id, parsed.reason, actor=user_id)
            except LicenceError as error:
                raise _refusal(error) from None
            return revoked_notice(change.licence_id, change.recheck)
        raise AssertionError(parsed.action)

    def form_submitted(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The licence form: a field error shown on its block, or the form closed and the officer told by
        DM what was recorded and what the re-check changed."""
        form = parse(Submission, body, "licence form")
        if form is None:
            ack(response_action="errors", errors={ids.LICENCE_NUMBER_BLOCK: UNREADABLE_FORM})
            return
        user_id = form.user.id
        fields = form_fields(form)
        self._finish(ack, context, user_id, lambda: self._record(user_id, fields))

    def _record(self, user_id: str, fields: dict[str, str | None]) -> Reply:
        ctx = self.ctx
        # The role first, and now, not when the form opened: it may have been taken away meanwhile,
        # and a submission forged by someone without it is refused (and audited) whatever its fields.
        require_licence_officer(ctx, user_id, "record licences", subject="form")
        try:
            change = record_licence(ctx, fields, actor=user_id)
        except LicenceError as error:
            raise _refusal(error) from None
        record = licence_on_record(ctx, change.licence_id)
        if record is None:  # recorded and committed above; licences are never deleted
            raise AssertionError(f"licence {change.licence_id} vanished")
        return recorded_notice(record, change.recheck)

    def _finish(self, ack: Ack, context: dict[str, Any], user_id: str, work: Callable[[], Reply]) -> None:
        """A refusal the service gives in time is shown in the form, on the field it is about; otherwise
        the form closes and the answer (what was recorded, or why not) comes by DM."""
        finish_form(self.responder, ack, context, user_id, work, _error_block, tell_done=True)

    def model_options(self, ack: Ack, body: dict[str, Any]) -> None:
        """The form's model search past 100 models (block_suggestion): the models matching the typed
        text, labelled as in the directive form. It reads only the catalog, which everyone may see."""
        found: list[dict[str, Any]] = []
        try:
            query = query_of(body)
            if query is not None:
                found = [
                    option(directive_label(model), model.slug)
                    for model in self.ctx.catalog.search(query, ids.SELECT_OPTIONS_MAX)
                    if len(model.slug) <= ids.OPTION_VALUE_MAX
                ]
        except Exception:  # an empty menu beats an error the officer cannot act on
            log.exception("could not build licence model options")
            found = []
        ack(options=found)


def register(app: App, surfaces: Surfaces) -> LicenceListeners:
    """Register `/licence`, its form and the form's model search on `app`; returns the listeners."""
    listeners = LicenceListeners(surfaces)
    app.command(ids.LICENCE_COMMAND)(listeners.command)
    app.view(ids.LICENCE_VIEW)(listeners.form_submitted)
    # A dict constraint matches block_suggestion only (a string would also match legacy dialogs).
    app.options({"action_id": ids.LICENCE_MODELS_ACTION})(listeners.model_options)
    return listeners
