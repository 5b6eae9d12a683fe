"""Events API: the App Home tab, and Slack telling us an account was deactivated or reactivated."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import accounts
from bot.slack.payloads import HomeOpened, UserChange, parse
from bot.slack.surfaces import Surfaces


class EventListeners:
    """Bolt acks events before these run; a retry of an event already handled is not handled again
    (Responder.later)."""

    def __init__(self, surfaces: Surfaces):
        self.ctx = surfaces.ctx
        self.responder = surfaces.responder

    def home_opened(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        """`app_home_opened` on the Home tab: the person's App Home is refreshed."""
        opened = parse(HomeOpened, event, "app_home_opened event")
        if opened is not None and (opened.tab or "home") == "home":
            user_id = opened.user
            self.responder.later(lambda: accounts.home_opened(self.ctx, user_id), context)

    def user_changed(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        """`user_change`: records whether the Slack account is deactivated."""
        changed = parse(UserChange, event, "user_change event")
        if changed is not None:
            user = changed.user
            self.responder.later(
                lambda: accounts.record_account(self.ctx, user.id, deleted=user.deleted), context
            )


def register(app: App, surfaces: Surfaces) -> EventListeners:
    """Register the event listeners on `app`; returns them so that tests can call them directly."""
    listeners = EventListeners(surfaces)
    app.event("app_home_opened")(listeners.home_opened)
    app.event("user_change")(listeners.user_changed)
    return listeners
