"""Modal submissions: the request form, the Extend form and the deny-reason form."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App

from bot.domain.durations import DurationError, parse_duration
from bot.domain.status import Verdict
from bot.domain.text import parse_db_id
from bot.present.mrkdwn import clip
from bot.present.replies import Notice, Reply
from bot.services import approvals, break_glass, extensions, requests
from bot.services.context import Refusal
from bot.slack import ids
from bot.slack.payloads import Submission, parse
from bot.slack.responder import Answer, Responder
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)

_FIELD_BLOCKS = {
    "model": ids.REQUEST_MODEL_BLOCK,
    "duration": ids.REQUEST_DURATION_BLOCK,
    "justification": ids.REQUEST_JUSTIFICATION_BLOCK,
}


def form_error(text: str) -> str:
    """A refusal's plain text as a modal field error (Slack shows those as plain text), clipped to
    Slack's limit. Nothing is removed: the message may quote what the person typed, which they must
    see exactly as typed."""
    return clip(text, 300)


UNREADABLE_FORM = "I could not read this form as sent. Nothing was done; please submit it again."


def finish_form(
    responder: Responder,
    ack: Ack,
    context: dict[str, Any],
    user_id: str,
    work: Callable[[], Reply],
    error_block: Callable[[Refusal], str],
    *,
    tell_done: bool = False,
) -> None:
    """Run a form's `work` and answer the submission: a refusal given within the ack deadline is shown
    in the form on the field `error_block` names; otherwise the form closes and a refusal (and, with
    `tell_done`, the reply to work done) comes by DM. A repeated submission is answered once."""
    future = responder.run(work, context)
    answer = responder.wait(future, context)
    if answer is None:
        ack()

        def later(done: Future[Answer]) -> None:
            result = done.result()
            if (tell_done or result.refusal is not None) and not result.repeat:
                responder.tell(user_id, result.reply)

        future.add_done_callback(later)
        return
    if answer.refusal is not None and not answer.repeat:
        errors = {error_block(answer.refusal): form_error(answer.refusal.message)}
        ack(response_action="errors", errors=errors)
        return
    ack()
    if tell_done and answer.refusal is None:
        responder.tell(user_id, answer.reply)


class ViewListeners:
    """Modal submissions: a refusal the service gives in time is shown in the form, on the field it is
    about; otherwise the form closes and the answer comes by DM."""

    def __init__(self, surfaces: Surfaces):
        self.ctx = surfaces.ctx
        self.responder = surfaces.responder

    def finish(
        self,
        ack: Ack,
        context: dict[str, Any],
        user_id: str,
        work: Callable[[], Reply],
        error_block: Callable[[Refusal], str],
    ) -> None:
        """Show a refusal in the form if the service answers in time; otherwise close it and DM later."""
        finish_form(self.responder, ack, context, user_id, work, error_block)

    def request_submitted(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The request form: model, optional duration, justification; files one access request."""
        form = parse(Submission, body, "request form")
        if form is None:
            ack(response_action="errors", errors={ids.REQUEST_MODEL_BLOCK: UNREADABLE_FORM})
            return
        user_id = form.user.id
        model = form.selected(ids.REQUEST_MODEL_BLOCK, ids.REQUEST_MODEL_ACTION)
        if not model:
            ack(response_action="errors", errors={ids.REQUEST_MODEL_BLOCK: "Choose a model."})
            return
        duration: timedelta | None = None
        chosen = form.selected(ids.REQUEST_DURATION_BLOCK, ids.REQUEST_DURATION_ACTION)
        if chosen:
            try:
                duration = parse_duration(chosen)
            except DurationError as error:
                ack(response_action="errors", errors={ids.REQUEST_DURATION_BLOCK: str(error)})
                return
        justification = form.text(ids.REQUEST_JUSTIFICATION_BLOCK, ids.REQUEST_JUSTIFICATION_ACTION)

        def work() -> Reply:
            return requests.submit_request(
                self.ctx,
                requester_id=user_id,
                model_slug=model,
                duration=duration,
                justification=justification,
            ).reply

        self.finish(ack, context, user_id, work, _request_block)

    def extend_submitted(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The Extend form: by how long, and why; its private_metadata is the grant id (re-checked: the
        service refuses a grant that is not the submitter's)."""
        form = parse(Submission, body, "Extend form")
        if form is None:
            ack(response_action="errors", errors={ids.EXTEND_REASON_BLOCK: UNREADABLE_FORM})
            return
        user_id = form.user.id
        grant_id = parse_db_id(form.view.private_metadata or "")
        chosen = form.selected(ids.EXTEND_DURATION_BLOCK, ids.EXTEND_DURATION_ACTION)
        try:
            duration = parse_duration(chosen) if chosen else None
        except DurationError as error:
            ack(response_action="errors", errors={ids.EXTEND_DURATION_BLOCK: str(error)})
            return
        if grant_id is None:
            ack(response_action="errors", errors={ids.EXTEND_REASON_BLOCK: UNREADABLE_FORM})
            return
        justification = form.text(ids.EXTEND_REASON_BLOCK, ids.EXTEND_REASON_ACTION)

        def work() -> Reply:
            return extensions.submit_extension(
                self.ctx, holder_id=user_id, grant_id=grant_id, duration=duration, justification=justification
            ).reply

        finish_form(self.responder, ack, context, user_id, work, _extend_block)

    def break_glass_revoke_submitted(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The Revoke form of a break-glass review; private_metadata is the use's id (re-checked: only an
        access admin other than its holder may revoke)."""
        read = _reason_form(ack, body, "Revoke form")
        use_id = parse_db_id(read[0].view.private_metadata or "") if read else None
        if read is None or use_id is None:
            if read is not None:
                ack(response_action="errors", errors={ids.DENY_REASON_BLOCK: UNREADABLE_FORM})
            return
        form, reason = read
        user_id = form.user.id

        def work() -> Reply:
            use = break_glass.review(self.ctx, reviewer=user_id, use_id=use_id, keep=False, reason=reason)
            return Notice(
                f"Revoked B{use.id}: its grant has ended and its holder is told why.", tone="success"
            )

        finish_form(self.responder, ack, context, user_id, work, _reason_block, tell_done=True)

    def deny_submitted(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """The deny-reason form; its private_metadata is the Deny button's value."""
        read = _reason_form(ack, body, "deny form")
        if read is None:
            return
        form, reason = read
        user_id = form.user.id
        value = form.view.private_metadata

        def work() -> Reply:
            button = approvals.parse_button_value(value)
            return approvals.decide(
                self.ctx,
                request_id=button.request_id,
                position=button.position,
                approver_id=user_id,
                verdict=Verdict.DENY,
                reason=reason,
            ).reply

        self.finish(ack, context, user_id, work, _reason_block)


def _request_block(refusal: Refusal) -> str:
    """The request form's block a refusal is about (the model picker when it names no field)."""
    return _FIELD_BLOCKS.get(refusal.field or "model", ids.REQUEST_MODEL_BLOCK)


def _reason_form(ack: Ack, body: dict[str, Any], what: str) -> tuple[Submission, str] | None:
    """A reason form (deny, revoke) and its reason; None when it has already been answered with the
    error to show (unreadable, or no reason given)."""
    form = parse(Submission, body, what)
    if form is None:
        ack(response_action="errors", errors={ids.DENY_REASON_BLOCK: UNREADABLE_FORM})
        return None
    reason = form.text(ids.DENY_REASON_BLOCK, ids.DENY_REASON_ACTION).strip()
    if not reason:
        ack(response_action="errors", errors={ids.DENY_REASON_BLOCK: "Please give a reason."})
        return None
    return form, reason


def _reason_block(_refusal: Refusal) -> str:
    return ids.DENY_REASON_BLOCK


def _extend_block(refusal: Refusal) -> str:
    """The Extend form's block a refusal is about (the reason, unless it is about the duration)."""
    return ids.EXTEND_DURATION_BLOCK if refusal.field == "duration" else ids.EXTEND_REASON_BLOCK


def register(app: App, surfaces: Surfaces) -> ViewListeners:
    """Register the request and deny form submissions on `app`; returns the listeners for tests."""
    listeners = ViewListeners(surfaces)
    app.view(ids.REQUEST_VIEW)(listeners.request_submitted)
    app.view(ids.DENY_VIEW)(listeners.deny_submitted)
    app.view(ids.EXTEND_VIEW)(listeners.extend_submitted)
    app.view(ids.BREAK_GLASS_REVOKE_VIEW)(listeners.break_glass_revoke_submitted)
    return listeners
