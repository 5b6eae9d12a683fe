"""The global shortcut "Request model access"."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack import ids
from bot.slack.surfaces import Surfaces


def register(app: App, surfaces: Surfaces) -> None:
    @app.shortcut(ids.REQUEST_SHORTCUT)
    def request_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        surfaces.open_request_form(client, body["trigger_id"], user_id=body["user"]["id"])
