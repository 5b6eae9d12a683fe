"""The Bolt app factory: builds the app and wires the listeners; nothing else happens here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from bot.slack import actions, commands, directives, events, licences, options, shortcuts, views
from bot.slack.edge import surface_of
from bot.slack.responder import RECEIVED_AT, REPLAY, SURFACE, arrival_replay, arrival_time
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage() and "will be unused" not in record.getMessage()


def stamp_arrival(context: BoltContext, body: dict[str, Any], next: Callable[[], None]) -> None:
    """Middleware: note when the request arrived, its replay key and its surface, for the ack deadline
    and replays."""
    context[RECEIVED_AT] = arrival_time()
    context[SURFACE] = surface_of(body)
    replay = arrival_replay()
    if replay is not None:
        context[REPLAY] = replay
    next()


def on_error(error: Exception, body: dict[str, Any]) -> None:
    """One log line for a request no listener handles, a full one for a listener that failed."""
    surface = {"surface": surface_of(body)}
    if isinstance(error, BoltUnhandledRequestError):
        # A verified request nothing here listens for (a retired button, a new Slack feature).
        kind = str(body.get("type") or "command")[:40]
        log.warning("no listener for a Slack %s request", kind, extra=surface)
        return
    log.error("a listener failed (%s)", type(error).__name__, exc_info=error, extra=surface)


def build_app(
    *,
    bot_token: str,
    signing_secret: str,
    client: WebClient,
    surfaces: Surfaces,
    bot_user_id: str | None = None,
    team_id: str | None = None,
) -> App:
    """The Bolt app for one workspace, every listener registered with `surfaces` as its dependencies."""

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
        # Named here: otherwise Bolt names the app after its caller's file through inspect.stack(), which
        # reads the source of every frame on the stack.
        name="accessbot",
        signing_secret=signing_secret,
        client=client,
        authorize=authorize,
        # Listeners ack first and may then wait on the database; a roomy pool keeps one slow click
        # from delaying the next person's ack.
        listener_executor=ThreadPoolExecutor(max_workers=64, thread_name_prefix="listener"),
        logger=bolt_logger,
        # The HTTP edge (bot/slack/edge.py) verifies every request on its raw bytes before Bolt sees it;
        # Bolt's own check would parse the body first and log all of it when the check fails.
        request_verification_enabled=False,
        # Unhandled requests go to on_error (one line) instead of Bolt's multi-line suggestion.
        raise_error_for_unhandled_request=True,
    )
    bolt_logger.removeFilter(quiet)

    app.middleware(stamp_arrival)
    app.error(on_error)
    for module in (commands, directives, licences, actions, views, events, shortcuts, options):
        module.register(app, surfaces)
    return app
