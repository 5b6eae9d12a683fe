"""Buttons: Approve / Deny on approval messages and in App Home, and the App Home's own buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.status import Verdict
from bot.domain.text import parse_db_id
from bot.present.replies import Notice, Person, Reply, Screen
from bot.services import approvals, break_glass, delegations, extensions, grants, requests
from bot.services.context import Refusal
from bot.slack import ids
from bot.slack.payloads import Click, parse
from bot.slack.responder import Answer
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)


def _id_value(click: Click, noun: str) -> int:
    """The database id a Cancel or Relinquish button carries. Raises Refusal when it holds none."""
    value = parse_db_id(click.value)
    if value is None:
        raise Refusal(f"That {noun} button is not one of mine, so nothing was changed.")
    return value


class ActionListeners:
    """Button clicks. Each acks at once (Slack shows an error after 3 s) and does its work after the ack,
    in the responder's background pool."""

    def __init__(self, surfaces: Surfaces):
        self.surfaces = surfaces
        self.ctx = surfaces.ctx
        self.responder = surfaces.responder

    def reply(self, click: Click, answer: Answer, *, always: bool = False) -> None:
        """Tell the clicker what happened: ephemerally under a message, or by DM (their Home tab is
        refreshed by the service that changed something). Successes are told only with `always`."""
        if answer.repeat or not (answer.refusal is not None or always):
            return
        if click.in_view or click.response_url is None:
            self.responder.tell(click.user.id, answer.reply)
        else:
            self.responder.respond_later(click.response_url, answer.reply, user_id=click.user.id)

    def approve(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """Approve on an approval message or in App Home; the value is "<request_id>:<step position>"."""
        ack()
        click = parse(Click, body, "Approve click")
        if click is not None:
            self.responder.background.submit(self._approve, click, context)

    def _approve(self, click: Click, context: dict[str, Any]) -> None:
        unchanged = False

        def work() -> Reply:
            nonlocal unchanged
            button = approvals.parse_button_value(click.value)
            outcome = approvals.decide(
                self.ctx,
                request_id=button.request_id,
                position=button.position,
                approver_id=click.user.id,
                verdict=Verdict.APPROVE,
            )
            unchanged = outcome.status == approvals.UNCHANGED
            return outcome.reply

        answer = self.responder.attempt(work, context)
        self.reply(click, answer, always=unchanged)

    def deny(self, ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        """Deny: opens the reason form at once (trigger_id expires); permissions are checked on submit."""
        ack()
        click = parse(Click, body, "Deny click")
        if click is None:
            return
        try:
            request_id = approvals.parse_button_value(click.value).request_id
        except Refusal as refusal:
            self.reply(click, Answer(Notice(refusal.message, tone="warning"), refusal))
            return
        if click.trigger_id is None:
            return
        view = self.responder.render(
            Screen("deny_modal", {"button_value": click.value, "request_label": f"R{request_id}"})
        )
        try:
            client.views_open(trigger_id=click.trigger_id, view=view)
        except SlackApiError as error:
            log.warning("views.open for the deny form failed: %s", error.response.get("error"))
            message = Notice("I could not open the form in time; please click Deny again.", tone="warning")
            self.reply(click, Answer(message, Refusal("views.open failed")))

    def extend(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Extend on an expiry warning or in App Home (the value is the grant id): opens the Extend form
        for the grant's holder, or says why it cannot be extended. Checked again on submit."""
        ack()
        click = parse(Click, body, "Extend click")
        if click is None:
            return
        try:
            form = extensions.extension_form(self.ctx, click.user.id, _id_value(click, "Extend"))
        except Refusal as refusal:
            self.reply(click, Answer(Notice(refusal.message, title=refusal.title, tone="warning"), refusal))
            return
        if click.trigger_id is None:
            return
        try:
            client.views_open(trigger_id=click.trigger_id, view=self.responder.render(form))
        except SlackApiError as error:
            log.warning("views.open for the Extend form failed: %s", error.response.get("error"))
            message = Notice("I could not open the form in time; please click Extend again.", tone="warning")
            self.reply(click, Answer(message, Refusal("views.open failed")))

    def home_request(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """App Home's "Request access": opens the request form."""
        ack()
        click = parse(Click, body, "App Home click")
        if click is not None and click.trigger_id is not None:
            self.surfaces.open_request_form(client, click.trigger_id, user_id=click.user.id)

    def home_cancel(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """App Home's Cancel on a pending request; the value is the request id."""
        ack()
        click = parse(Click, body, "Cancel click")
        if click is None:
            return

        def work() -> Reply:
            request_id = _id_value(click, "Cancel")
            return requests.cancel_request(self.ctx, actor_id=click.user.id, request_id=request_id).reply

        self.responder.background.submit(lambda: self.reply(click, self.responder.attempt(work, context)))

    def home_relinquish(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """App Home's Relinquish on a grant; the value is the grant id."""
        ack()
        click = parse(Click, body, "Relinquish click")
        if click is None:
            return

        def work() -> Reply:
            grant_id = _id_value(click, "Relinquish")
            return grants.relinquish_grant(self.ctx, holder_id=click.user.id, grant_id=grant_id).reply

        self.responder.background.submit(lambda: self.reply(click, self.responder.attempt(work, context)))

    def delegation_end(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """App Home's End on a delegation the clicker made; the value is the delegation id."""
        ack()
        click = parse(Click, body, "End delegation click")
        if click is None:
            return

        def work() -> Reply:
            row = delegations.end_delegation(
                self.ctx, actor=click.user.id, delegation_id=_id_value(click, "End")
            )
            return Notice(
                "Ended your delegation to {delegate}.",
                tone="success",
                values={"delegate": Person(row.delegate_id)},
            )

        self.responder.background.submit(
            lambda: self.reply(click, self.responder.attempt(work, context), always=True)
        )

    def break_glass_keep(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """Keep on a break-glass review message (access admins); the value is the use's id."""
        ack()
        click = parse(Click, body, "Keep click")
        if click is None:
            return

        def work() -> Reply:
            use = break_glass.review(
                self.ctx, reviewer=click.user.id, use_id=_id_value(click, "Keep"), keep=True
            )
            return Notice(f"Kept B{use.id}: the grant runs to its end.", tone="success")

        self.responder.background.submit(lambda: self.reply(click, self.responder.attempt(work, context)))

    def break_glass_revoke(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        """Revoke… on a break-glass review message: opens the reason form (checked on submit)."""
        ack()
        click = parse(Click, body, "Revoke click")
        if click is None or click.trigger_id is None:
            return
        use_id = parse_db_id(click.value)
        if use_id is None:
            self.reply(
                click, Answer(Notice("That Revoke button is not one of mine.", tone="warning"), Refusal(""))
            )
            return
        view = self.responder.render(
            Screen(
                "deny_modal",
                {
                    "button_value": click.value, "request_label": f"B{use_id}",
                    "callback": ids.BREAK_GLASS_REVOKE_VIEW, "verb": "Revoke", "who_sees": "Its holder",
                },
            )
        )  # fmt: skip
        try:
            client.views_open(trigger_id=click.trigger_id, view=view)
        except SlackApiError as error:
            log.warning("views.open for the Revoke form failed: %s", error.response.get("error"))
            message = Notice("I could not open the form in time; please click Revoke again.", tone="warning")
            self.reply(click, Answer(message, Refusal("views.open failed")))


def register(app: App, surfaces: Surfaces) -> ActionListeners:
    """Register every button listener on `app`; returns the listeners so that tests can call them."""
    listeners = ActionListeners(surfaces)
    app.action(ids.APPROVE_ACTION)(listeners.approve)
    app.action(ids.DENY_ACTION)(listeners.deny)
    app.action(ids.EXTEND_ACTION)(listeners.extend)
    app.action(ids.HOME_REQUEST_ACTION)(listeners.home_request)
    app.action(ids.HOME_CANCEL_ACTION)(listeners.home_cancel)
    app.action(ids.HOME_RELINQUISH_ACTION)(listeners.home_relinquish)
    app.action(ids.DELEGATION_END_ACTION)(listeners.delegation_end)
    app.action(ids.BREAK_GLASS_KEEP_ACTION)(listeners.break_glass_keep)
    app.action(ids.BREAK_GLASS_REVOKE_ACTION)(listeners.break_glass_revoke)
    return listeners
