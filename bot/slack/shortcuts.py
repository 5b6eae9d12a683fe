"""The global shortcut "Request model access"."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack import ids
from bot.slack.payloads import Shortcut, parse
from bot.slack.surfaces import Surfaces


class ShortcutListeners:
    def __init__(self, surfaces: Surfaces):
        self.surfaces = surfaces

    def request_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Opens the request form (the person is told by DM if it cannot open)."""
        ack()
        shortcut = parse(Shortcut, body, "shortcut")
        if shortcut is not None:
            self.surfaces.open_request_form(client, shortcut.trigger_id, user_id=shortcut.user.id)


def register(app: App, surfaces: Surfaces) -> ShortcutListeners:
    """Register the shortcut on `app`; returns the listeners so that tests can call them directly."""
    listeners = ShortcutListeners(surfaces)
    app.shortcut(ids.REQUEST_SHORTCUT)(listeners.request_shortcut)
    return listeners
