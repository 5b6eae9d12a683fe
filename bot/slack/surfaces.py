"""Things several listeners do: build and open the request form, open a form only its role may use, and
say so when a form cannot open."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.durations import parse_duration
from bot.present.replies import Notice, Screen
from bot.present.status import catalog_entries
from bot.services.context import Context
from bot.slack.payloads import Command
from bot.slack.responder import Responder

log = logging.getLogger(__name__)


class Surfaces:
    """What every listener depends on, built once at start: the services' Context, the Responder that
    answers within Slack's deadline, and the request form several surfaces open."""

    def __init__(self, ctx: Context, responder: Responder):
        self.ctx = ctx
        self.responder = responder

    def request_form(self, initial_model: str | None = None) -> dict[str, Any]:
        with self.ctx.read() as session:
            models = catalog_entries(self.ctx, session)
        durations: dict[str, str] = {}
        for model in models:
            for choice in model["durations"]:
                durations.setdefault(choice["value"], choice["label"])
        ordered = sorted(durations.items(), key=lambda item: _seconds(item[0]))
        policy = self.ctx.catalog.policy
        return self.responder.render(
            Screen(
                "request_modal",
                {
                    "models": models,
                    "durations": [{"value": value, "label": label} for value, label in ordered],
                    "initial_model": initial_model,
                    "min_justification": max(1, policy.justification_min_chars),
                    "max_justification": policy.justification_max_chars,
                },
            )
        )

    def open_request_form(
        self,
        client: WebClient,
        trigger_id: str,
        *,
        user_id: str,
        initial_model: str | None = None,
        tell_by_dm: bool = True,
    ) -> bool:
        """Open the request modal now: trigger_id is single-use and lives about 3 seconds.

        Returns whether the form opened. If Slack refuses (views.open: `expired_trigger_id` when the
        listener was slow, or any other failure), the person clicked and saw nothing; with `tell_by_dm`
        they get a DM saying how to file without the form. Callers that can answer in place (the slash
        command has a response_url) pass False and explain there instead, so nobody is told twice.
        """
        try:
            client.views_open(trigger_id=trigger_id, view=self.request_form(initial_model))
            return True
        except SlackApiError as error:
            log.warning("views.open for the request form failed: %s", error.response.get("error"))
        except Exception:  # a timeout, a dropped connection or a form that failed to build: same outcome
            log.exception("views.open for the request form failed")
        if tell_by_dm:
            self.responder.tell(user_id, self._form_failed_notice())
        return False

    def open_gated_form(
        self,
        ack: Ack,
        client: WebClient,
        command: Command,
        context: dict[str, Any],
        *,
        allowed: Callable[[], None],
        view: Callable[[], dict[str, Any]],
        slash: str,
    ) -> None:
        """Open a form that only some roles may use, from its slash command (`slash`, e.g. "/licence").

        `allowed` raises Refusal for anyone without the role; the refusal goes in the ack and no form
        opens. The check runs on the responder's pool and is waited for only until Slack's 3-second
        deadline nears, because trigger_id expires with it: if the check is still running, or Slack
        refuses views.open, the person is told through the command's response_url to run it again.
        `view` builds the form's Block Kit view (called only once the check has passed).
        """
        responder, user_id = self.responder, command.user_id
        answer = responder.wait(responder.run(allowed, context, acts=False), context)
        if answer is not None and answer.refusal is not None and answer.reply is not None:
            responder.ack(ack, answer.reply)
            return
        ack()
        if answer is None:
            notice = Notice(f"I am busy right now; please run `{slash}` again.", tone="warning")
            responder.respond_later(command.response_url, notice, user_id=user_id)
            return
        try:
            client.views_open(trigger_id=command.trigger_id, view=view())
        except SlackApiError as error:
            log.warning("views.open for the %s form failed: %s", slash, error.response.get("error"))
            notice = Notice(f"I could not open the form in time; please run `{slash}` again.", tone="warning")
            responder.respond_later(command.response_url, notice, user_id=user_id)

    def _form_failed_notice(self) -> Notice:
        """What to do when the request form did not open: try again, or file with the slash command."""
        return Notice(
            "Slack did not let me open the request form just now. Click the button or run the shortcut "
            "again, or file directly with "
            "`/access request <model> <why you need it>` (`/access models` lists the models).",
            title="The request form did not open",
            tone="warning",
        )


def _seconds(compact: str) -> int:
    return int(parse_duration(compact).total_seconds())
