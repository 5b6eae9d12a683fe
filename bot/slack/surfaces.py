"""Things several listeners do: open the request form, publish the App Home tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.durations import parse_duration
from bot.services.context import Context
from bot.services.queries import catalog_entries, home_data
from bot.slack.responder import Responder

log = logging.getLogger(__name__)


class Surfaces:
    def __init__(self, ctx: Context, responder: Responder):
        self.ctx = ctx
        self.responder = responder

    def request_form(self, initial_model: str | None = None) -> dict[str, Any]:
        with self.ctx.db.read() as session:
            models = catalog_entries(self.ctx, session)
        durations: dict[str, str] = {}
        for model in models:
            for choice in model["durations"]:
                durations.setdefault(choice["value"], choice["label"])
        ordered = sorted(durations.items(), key=lambda item: _seconds(item[0]))
        policy = self.ctx.catalog.policy
        return self.ctx.render(
            "request_modal",
            models=models,
            durations=[{"value": value, "label": label} for value, label in ordered],
            initial_model=initial_model,
            min_justification=max(1, policy.justification_min_chars),
            max_justification=policy.justification_max_chars,
        )

    def open_request_form(
        self, client: WebClient, trigger_id: str, *, user_id: str, initial_model: str | None = None
    ) -> bool:
        """Open the request modal now: trigger_id is single-use and lives about 3 seconds."""
        try:
            client.views_open(trigger_id=trigger_id, view=self.request_form(initial_model))
            return True
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            return False

    def publish_home(self, client: WebClient, user_id: str) -> None:
        try:
            with self.ctx.db.read() as session:
                view = self.ctx.render("home", **home_data(self.ctx, session, user_id))
            client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))
        except Exception:
            log.exception("could not publish the home tab")


def _seconds(compact: str) -> int:
    return int(parse_duration(compact).total_seconds())
