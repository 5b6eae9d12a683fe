"""Buttons: Approve / Deny on approval messages and in App Home, and the App Home's own buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.status import Verdict
from bot.domain.text import parse_db_id
from bot.services import approvals, grants, requests
from bot.services.context import Outcome, Refusal
from bot.slack import ids
from bot.slack.payloads import Click, parse
from bot.slack.responder import Answer
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)


def _id_value(click: Click, noun: str) -> int:
    value = parse_db_id(click.value)
    if value is None:
        raise Refusal(f"That {noun} button is not one of mine, so nothing was changed.")
    return value


def register(app: App, surfaces: Surfaces) -> None:
    ctx, responder = surfaces.ctx, surfaces.responder

    def reply(click: Click, answer: Answer, *, always: bool = False) -> None:
        """Tell the clicker what happened: ephemerally under a message, or by DM (their Home tab is
        refreshed by the service that changed something)."""
        if answer.repeat or not (answer.refusal is not None or always):
            return
        if click.in_view or click.response_url is None:
            responder.tell(click.user.id, answer.message)
        else:
            responder.respond_later(click.response_url, answer.message, user_id=click.user.id)

    def clicked(body: dict[str, Any], what: str) -> Click | None:
        return parse(Click, body, what)

    @app.action(ids.APPROVE_ACTION)
    def approve(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        ack()
        click = clicked(body, "Approve click")
        if click is None:
            return
        unchanged = False

        def work() -> dict[str, Any]:
            nonlocal unchanged
            button = approvals.parse_button_value(click.value)
            outcome = approvals.decide(
                ctx,
                request_id=button.request_id,
                position=button.position,
                approver_id=click.user.id,
                verdict=Verdict.APPROVE,
            )
            unchanged = outcome.status == approvals.UNCHANGED
            return outcome.message

        def run() -> None:
            answer = responder.attempt(work, context)
            reply(click, answer, always=unchanged)

        responder.background.submit(run)

    @app.action(ids.DENY_ACTION)
    def deny(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        # Open the reason form at once (trigger_id expires); permissions are checked on submit.
        ack()
        click = clicked(body, "Deny click")
        if click is None:
            return
        try:
            request_id = approvals.parse_button_value(click.value).request_id
        except Refusal as refusal:
            reply(click, Answer(ctx.notice(refusal.message, tone="warning"), refusal))
            return
        if click.trigger_id is None:
            return
        view = ctx.render("deny_modal", button_value=click.value, request_label=f"R{request_id}")
        try:
            client.views_open(trigger_id=click.trigger_id, view=view)
        except SlackApiError as error:
            log.warning("views.open for the deny form failed: %s", error.response.get("error"))
            message = ctx.notice(
                "I could not open the form in time; please click Deny again.", tone="warning"
            )
            reply(click, Answer(message, Refusal("views.open failed")))

    @app.action(ids.HOME_REQUEST_ACTION)
    def home_request(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = clicked(body, "App Home click")
        if click is None or click.trigger_id is None:
            return
        surfaces.open_request_form(client, click.trigger_id, user_id=click.user.id)

    @app.action(ids.HOME_CANCEL_ACTION)
    def home_cancel(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        ack()
        click = clicked(body, "Cancel click")
        if click is None:
            return

        def work() -> dict[str, Any]:
            outcome: Outcome = requests.cancel_request(
                ctx, actor_id=click.user.id, request_id=_id_value(click, "Cancel")
            )
            return outcome.message

        responder.background.submit(lambda: reply(click, responder.attempt(work, context)))

    @app.action(ids.HOME_RELINQUISH_ACTION)
    def home_relinquish(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        ack()
        click = clicked(body, "Relinquish click")
        if click is None:
            return

        def work() -> dict[str, Any]:
            return grants.relinquish_grant(
                ctx, holder_id=click.user.id, grant_id=_id_value(click, "Relinquish")
            ).message

        responder.background.submit(lambda: reply(click, responder.attempt(work, context)))
