"""`accessbot serve`, `socket` and `worker`: the long-running processes."""

from __future__ import annotations

import argparse
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.cli.common import EXIT_FAILURE
from bot.cli.output import fail
from bot.config import Settings
from bot.services.context import Context


def freeze_startup_objects() -> None:
    """Set what start-up built (modules, the Bolt app, SQLAlchemy's tables, templates, the catalog) aside
    from the garbage collector: it lives as long as the process, yet every full collection walked it,
    pausing every thread of the process for 70 to 130 ms (the Approve click that met one waited that much
    longer for the next approver's DM). Full collections then walk only what work has left behind
    (https://docs.python.org/3/library/gc.html#gc.freeze)."""
    gc.collect()
    gc.freeze()


@contextmanager
def metrics_port(settings: Settings, ctx: Context, host: str = "0.0.0.0") -> Iterator[None]:
    """GET /metrics on ACCESSBOT_METRICS_PORT while the block runs, when it is set (raises ConfigError
    when it is set without ACCESSBOT_METRICS_TOKEN)."""
    from bot.metrics_http import metrics_server

    server = metrics_server(settings, ctx, host)
    if server is not None:
        server.start()
    try:
        yield
    finally:
        if server is not None:
            server.stop()


def serve(settings: Settings, args: argparse.Namespace) -> int:
    """The Slack app over HTTP on a production server, until stopped."""
    from bot.runtime import build_runtime
    from bot.server import serve as serve_http

    setting = "serve --port" if args.port else "PORT"
    port = args.port or settings.port
    settings.require_metrics(port, setting)
    runtime = build_runtime(settings)
    freeze_startup_objects()
    with metrics_port(settings, runtime.ctx, args.host):
        serve_http(runtime, args.host, port, settings.http_threads, setting)
    return 0


def socket(settings: Settings, args: argparse.Namespace) -> int:
    """The Slack app over Socket Mode, until interrupted; 1 when Slack refuses the connection."""
    from slack_sdk.errors import SlackApiError

    from bot.runtime import build_runtime
    from bot.slack.socket_mode import CheckedSocketModeHandler

    settings.require_metrics()
    runtime = build_runtime(settings, socket_mode=True)
    freeze_startup_objects()
    with metrics_port(settings, runtime.ctx):
        runtime.start_background()
        try:
            CheckedSocketModeHandler(runtime.app, settings.slack_app_token).start()
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else "unknown"
            return fail(
                EXIT_FAILURE, f"Slack refused the Socket Mode connection ({code}); check SLACK_APP_TOKEN"
            )
        except KeyboardInterrupt:
            pass
        finally:
            runtime.stop()
    return 0


def worker(settings: Settings, args: argparse.Namespace) -> int:
    """The outbox sender and the scheduled jobs, without Slack requests, until SIGTERM or Ctrl-C."""
    import signal
    import threading

    from bot.runtime import build_worker

    settings.require_metrics()
    runtime = build_worker(settings)
    freeze_startup_objects()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with metrics_port(settings, runtime.ctx):
        runtime.start_background()
        logging.getLogger("bot.worker").info("delivering the outbox and running scheduled jobs")
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            runtime.stop()
    return 0
