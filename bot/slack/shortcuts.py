"""The global shortcut "Request model access"."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack import ids
from bot.slack.payloads import Shortcut, parse
from bot.slack.surfaces import Surfaces


def register(app: App, surfaces: Surfaces) -> None:
    @app.shortcut(ids.REQUEST_SHORTCUT)
    def request_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        shortcut = parse(Shortcut, body, "shortcut")
        if shortcut is not None:
            surfaces.open_request_form(client, shortcut.trigger_id, user_id=shortcut.user.id)
