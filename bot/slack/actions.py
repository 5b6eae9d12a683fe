"""Buttons: Approve / Deny on approval messages and in App Home, and the App Home's own buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import approvals, grants, requests
from bot.services.context import Outcome, Refusal
from bot.slack import ids
from bot.slack.responder import Answer
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _int_value(body: dict[str, Any], noun: str) -> int:
    value = _value(body)
    if not value.isdigit():
        raise Refusal(f"That {noun} button is not one of mine, so nothing was changed.")
    return int(value)


def register(app: App, surfaces: Surfaces) -> None:
    ctx, responder = surfaces.ctx, surfaces.responder

    def reply(body: dict[str, Any], client: WebClient, answer: Answer, *, always: bool = False) -> None:
        """Tell the clicker what happened: ephemerally under a message, or by DM and a fresh Home tab."""
        user_id = body["user"]["id"]
        container = body.get("container") or {}
        if container.get("type") == "view":
            if answer.refusal is not None or always:
                responder.tell(user_id, answer.message)
            surfaces.publish_home(client, user_id)
            return
        if (answer.refusal is not None or always) and body.get("response_url"):
            responder.respond_later(body["response_url"], answer.message)

    def decide(body: dict[str, Any], client: WebClient, verdict: str, reason: str | None = None) -> Answer:
        user_id = body["user"]["id"]
        unchanged = False

        def work() -> dict[str, Any]:
            nonlocal unchanged
            request_id, position = approvals.parse_button_value(_value(body))
            outcome = approvals.decide(
                ctx,
                request_id=request_id,
                position=position,
                approver_id=user_id,
                verdict=verdict,
                reason=reason,
            )
            unchanged = outcome.status == approvals.UNCHANGED
            return outcome.message

        answer = responder.attempt(work)
        reply(body, client, answer, always=unchanged)
        return answer

    @app.action(ids.APPROVE_ACTION)
    def approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        responder.later(lambda: decide(body, client, approvals.APPROVE))

    @app.action(ids.DENY_ACTION)
    def deny(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        # Open the reason form at once (trigger_id expires); permissions are checked on submit.
        ack()
        try:
            request_id, _ = approvals.parse_button_value(_value(body))
        except Refusal as refusal:
            reply(body, client, Answer(ctx.notice(refusal.message, tone="warning"), refusal))
            return
        view = ctx.render("deny_modal", button_value=_value(body), request_label=f"R{request_id}")
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            log.warning("views.open for the deny form failed: %s", error.response.get("error"))
            message = ctx.notice(
                "I could not open the form in time; please click Deny again.", tone="warning"
            )
            reply(body, client, Answer(message, Refusal("views.open failed")))

    @app.action(ids.HOME_REQUEST_ACTION)
    def home_request(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        surfaces.open_request_form(client, body["trigger_id"], user_id=body["user"]["id"])

    @app.action(ids.HOME_CANCEL_ACTION)
    def home_cancel(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]

        def work() -> dict[str, Any]:
            outcome: Outcome = requests.cancel_request(
                ctx, actor_id=user_id, request_id=_int_value(body, "Cancel")
            )
            return outcome.message

        responder.later(lambda: reply(body, client, responder.attempt(work)))

    @app.action(ids.HOME_RELINQUISH_ACTION)
    def home_relinquish(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]

        def work() -> dict[str, Any]:
            return grants.relinquish_grant(
                ctx, holder_id=user_id, grant_id=_int_value(body, "Relinquish")
            ).message

        responder.later(lambda: reply(body, client, responder.attempt(work)))
