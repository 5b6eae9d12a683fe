"""The Bolt app factory: builds the app and wires the listeners; nothing else happens here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.slack import actions, commands, directives, events, shortcuts, views
from bot.slack.responder import RECEIVED_AT, arrival_time
from bot.slack.surfaces import Surfaces


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage() and "will be unused" not in record.getMessage()


def build_app(
    *,
    bot_token: str,
    signing_secret: str,
    client: WebClient,
    surfaces: Surfaces,
    bot_user_id: str | None = None,
    team_id: str | None = None,
) -> App:
    def authorize(**_: Any) -> AuthorizeResult:
        # A single-workspace app: the identity comes from auth.test at start, so that no request ever
        # waits on a Slack call before it is acknowledged.
        return AuthorizeResult(
            enterprise_id=None, team_id=team_id, bot_user_id=bot_user_id, bot_token=bot_token
        )

    bolt_logger = logging.getLogger("bot.slack.bolt")
    # Bolt warns that it ignores SLACK_BOT_TOKEN when `authorize` is given; that is intended here.
    quiet = _Quiet()
    bolt_logger.addFilter(quiet)
    app = App(
        signing_secret=signing_secret,
        client=client,
        authorize=authorize,
        # Listeners ack first and may then wait on the database; a roomy pool keeps one slow click
        # from delaying the next person's ack.
        listener_executor=ThreadPoolExecutor(max_workers=64, thread_name_prefix="listener"),
        logger=bolt_logger,
    )
    bolt_logger.removeFilter(quiet)

    @app.middleware
    def stamp_arrival(context: BoltContext, next: Callable[[], None]) -> None:
        context[RECEIVED_AT] = arrival_time()
        next()

    for module in (commands, directives, actions, views, events, shortcuts):
        module.register(app, surfaces)
    return app
