"""Events API: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.surfaces import Surfaces


def register(app: App, surfaces: Surfaces) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        # Bolt acks events before this runs. Publishing is idempotent, so Slack's retries are harmless.
        if event.get("tab", "home") == "home":
            surfaces.responder.later(lambda: surfaces.publish_home(client, event["user"]))
