"""Events API: the App Home tab, and Slack telling us an account was deactivated or reactivated."""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.notify.slack_errors import error_code
from bot.services import accounts
from bot.slack.payloads import HomeOpened, UserChange, parse
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)


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

    def user_changed(self, event: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
        """`user_change`: records whether the Slack account is deactivated. A deactivation counts at
        once; an event saying a deactivated account is active again is confirmed with users.info first
        (it may be a late delivery of an event older than the deactivation)."""
        changed = parse(UserChange, event, "user_change event")
        if changed is not None:
            user = changed.user

            def record() -> None:
                confirm = partial(active_now, client, user.id)
                accounts.record_account(self.ctx, user.id, deleted=user.deleted, confirm_active=confirm)

            self.responder.later(record, context)


def active_now(client: WebClient, user_id: str) -> bool | None:
    """Whether Slack's users.info says the account is active now: False when deactivated or unknown to
    Slack (`user_not_found`), None when Slack could not say (an error, a rate limit, an answer without
    `deleted`)."""
    try:
        response = client.users_info(user=user_id)
    except (SlackApiError, OSError) as error:  # OSError: the network (timeouts, refused connections)
        code = error_code(error) if isinstance(error, SlackApiError) else type(error).__name__
        if code == "user_not_found":
            return False
        log.warning("users.info failed (%s); a reactivation waits for Slack's next word", code)
        return None
    user = response.get("user")
    deleted = user.get("deleted") if isinstance(user, dict) else None
    return (not deleted) if isinstance(deleted, bool) else None


def register(app: App, surfaces: Surfaces) -> EventListeners:
    """Register the event listeners on `app`; returns them so that tests can call them directly."""
    listeners = EventListeners(surfaces)
    app.event("app_home_opened")(listeners.home_opened)
    app.event("user_change")(listeners.user_changed)
    # Last, so that it only takes what the listeners above do not: an event of any other type (one the
    # app's subscription gained before this release handles it) is acknowledged and left alone. Bolt
    # would answer it 404, and Slack retries a delivery that fails up to 3 times (Slack's Events API
    # documentation, "Retries"), so one unhandled event would arrive four times, each a failure.
    app.event(ANY_EVENT)(ignore_event)
    return listeners


# Bolt matches an event listener's pattern against the event's `type` (re.search).
ANY_EVENT = re.compile(".")


def ignore_event() -> None:
    """An event AccessBot does not act on: Bolt has acknowledged it (HTTP 200); nothing else happens, and
    nothing from it is logged (its type is whatever the request says)."""
