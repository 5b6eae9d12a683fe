"""HTTP mode: Bolt's WSGI adapter on waitress (a production server, not Bolt's development server).

POST /slack/events receives commands, interactivity and events; GET /healthz says whether the database
answers; POST /v1/access/check answers AI gateways (bot/api.py); GET /metrics gives Prometheus the
metrics (bot/metrics_http.py) when ACCESSBOT_METRICS_TOKEN is set (and sent as a Bearer token), unless
ACCESSBOT_METRICS_PORT moves them to a port of their own. Slack's and the gateway's requests are counted
and timed (bot/request_metrics.py).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.api import CHECK_PATH, DecisionApi, json_response, listening, not_found
from bot.metrics_http import METRICS_PATH, MetricsEndpoint
from bot.request_metrics import GATEWAY_OUTCOMES, SLACK_OUTCOMES, Measured
from bot.runtime import Runtime
from bot.services.gateway import Gateway
from bot.slack.edge import MAX_BODY_BYTES, SlackEdge
from bot.slack.responder import mark_arrival, mark_checked

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"


def wsgi_app(runtime: Runtime) -> Callable[..., Iterable[bytes]]:
    bolt = SlackRequestHandler(runtime.app, path=SLACK_PATH)
    edge = SlackEdge(
        bolt,
        runtime.worker.settings.slack_signing_secret or "",
        on_checked=lambda checked: mark_checked(checked.replay_key, checked.remember_until),
    )
    slack = Measured(edge, surface="unknown", outcomes=SLACK_OUTCOMES)

    settings = runtime.worker.settings
    api = DecisionApi(Gateway(runtime.ctx), settings.gateway_token_in_use)
    decisions = Measured(api, surface="gateway", outcomes=GATEWAY_OUTCOMES)
    # Off without ACCESSBOT_METRICS_TOKEN; on the metrics port instead when ACCESSBOT_METRICS_PORT is set.
    metrics = MetricsEndpoint(runtime.ctx, None if settings.metrics_port else settings.metrics_token_in_use)
    if not settings.metrics_port and settings.metrics_token and settings.metrics_token_problem:
        log.warning("GET %s disabled: %s", METRICS_PATH, settings.metrics_token_problem)
    if settings.gateway_token_problem is None:
        log.info("gateway decision API enabled on POST %s", CHECK_PATH)
    else:
        log.warning("gateway decision API disabled: %s", settings.gateway_token_problem)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        mark_arrival()
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _health(runtime, start_response)
        if path == SLACK_PATH and method == "POST":
            return slack(environ, start_response)
        if path == CHECK_PATH:
            return decisions(environ, start_response)
        if path == METRICS_PATH:
            return metrics(environ, start_response)
        return not_found(start_response)

    return application


def _health(runtime: Runtime, start_response: Callable[..., Any]) -> Iterable[bytes]:
    try:
        with runtime.ctx.read() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        body, status = {"ok": True, "database": "ok"}, "200 OK"
    except Exception as error:
        log.warning("health check: database unavailable (%s)", type(error).__name__)
        body, status = {"ok": False, "database": "unavailable"}, "503 Service Unavailable"
    return json_response(start_response, status, body)


def http_server(runtime: Runtime, host: str, port: int, threads: int, setting: str = "PORT") -> Any:
    """The waitress server `serve` runs (port 0: any free port, see `.effective_port`); not started.
    Raises ConfigError naming `setting` when the port cannot be bound (taken by another process)."""
    from waitress import create_server

    app = wsgi_app(runtime)
    return listening(
        lambda: create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="accessbot",
            # waitress buffers a body before the app sees it (1 GB by default): refuse large ones up front.
            max_request_body_size=MAX_BODY_BYTES,
        ),
        host,
        port,
        setting,
    )


def finish_requests(server: Any, timeout: float = 5.0) -> None:
    """After `server.close()`: let the requests being answered finish (up to `timeout` seconds) and end
    the server's request threads. waitress's single-socket server leaves them running when closed."""
    server.task_dispatcher.shutdown(timeout=timeout)


def serve(runtime: Runtime, host: str, port: int, threads: int, setting: str = "PORT") -> None:
    """Serve Slack over HTTP until SIGTERM or Ctrl-C, with the worker running beside it. Raises
    ConfigError naming `setting` when the port cannot be bound."""
    server = http_server(runtime, host, port, threads, setting)

    def shutdown(signum: int, _frame: Any) -> None:
        log.info("signal %s: shutting down", signum)
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, shutdown)
    runtime.start_background()
    log.info("serving Slack on http://%s:%s%s", host, port, SLACK_PATH)

    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        finish_requests(server)
        runtime.stop()
