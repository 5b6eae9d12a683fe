"""Events API: the App Home tab, and Slack telling us an account was deactivated or reactivated."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import accounts
from bot.slack.payloads import HomeOpened, UserChange, parse
from bot.slack.surfaces import Surfaces


def register(app: App, surfaces: Surfaces) -> None:
    ctx, responder = surfaces.ctx, surfaces.responder

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], context: dict[str, Any]) -> None:
        # Bolt acks events before this runs; a retry of an event already handled is not handled again.
        opened = parse(HomeOpened, event, "app_home_opened event")
        if opened is not None and (opened.tab or "home") == "home":
            responder.later(lambda: accounts.home_opened(ctx, opened.user), context)

    @app.event("user_change")
    def user_changed(event: dict[str, Any], context: dict[str, Any]) -> None:
        changed = parse(UserChange, event, "user_change event")
        if changed is not None:
            user = changed.user
            responder.later(lambda: accounts.record_account(ctx, user.id, deleted=user.deleted), context)
