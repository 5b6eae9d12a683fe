"""GET /metrics: the counters of bot/metrics.py and the queues' depth read from the database at scrape
time, in Prometheus's text format, only to a scraper bearing ACCESSBOT_METRICS_TOKEN.

`serve` answers it on its own port; with ACCESSBOT_METRICS_PORT set, `serve`, `socket` and `worker`
answer it on that port instead (`worker` and `socket` have no other HTTP port). The counts are not
secret, but a public endpoint on the Slack port invites scraping by anyone who finds it: it is off
without the token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from bot.api import bearer_matches, json_response, listening, not_found
from bot.config import Settings
from bot.domain.status import OutboxKind
from bot.metrics import REGISTRY
from bot.services.context import Context
from bot.store.queue_depth import WEBHOOK_KIND, unfinished_by_kind

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
QUEUE_KINDS = (*(kind.value for kind in OutboxKind), WEBHOOK_KIND)
# Seconds the queue query may take before the scrape gives up on it (database_up 0): well inside
# Prometheus's default scrape timeout of 10 s, so that a table locked by a migration or a long
# transaction costs the scrape its queue gauges, not the whole scrape.
QUEUE_QUERY_TIMEOUT = 3.0


class QueueCollector:
    """Outbox depth and the age of its oldest unfinished row by kind, read with one query per scrape.
    A database that does not answer, or not within `timeout` seconds, never fails the scrape:
    `accessbot_database_up` says 0 and the queue gauges are left out."""

    def __init__(self, ctx: Context, timeout: float = QUEUE_QUERY_TIMEOUT):
        self.ctx = ctx
        self.timeout = timeout
        self._was_up = True

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "accessbot_database_up", "Whether the database answered this scrape's queue query (1) or not (0)."
        )
        try:
            with self.ctx.read() as session:
                depths = {depth.kind: depth for depth in unfinished_by_kind(session, self.timeout)}
            now = self.ctx.clock()
        except Exception as error:
            if self._was_up:  # once per outage, not once per scrape
                log.warning("metrics: the database did not answer the queue query (%s)", type(error).__name__)
            self._was_up = False
            up.add_metric([], 0)
            yield up
            return
        self._was_up = True
        up.add_metric([], 1)
        yield up
        rows = GaugeMetricFamily(
            "accessbot_outbox_unfinished",
            "Messages queued and not yet delivered or given up on (pending or being sent), by kind: the "
            "outbox's post, update, respond, home, and webhook deliveries.",
            labels=["kind"],
        )
        age = GaugeMetricFamily(
            "accessbot_outbox_oldest_unfinished_age_seconds",
            "Seconds since the oldest unfinished message of each kind was queued (0 when none is).",
            labels=["kind"],
        )
        for kind in sorted({*QUEUE_KINDS, *depths}):
            depth = depths.get(kind)
            rows.add_metric([kind], depth.rows if depth else 0)
            age.add_metric([kind], max(0.0, (now - depth.oldest).total_seconds()) if depth else 0.0)
        yield rows
        yield age


class _Together:
    """Several collectors read as one registry (what generate_latest needs)."""

    def __init__(self, *collectors: Any):
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class MetricsEndpoint:
    """The WSGI handler of GET /metrics for the process's counters and `ctx`'s queues; `token` None:
    not served (404). `queue_timeout`: seconds the queue query may take (QueueCollector)."""

    def __init__(self, ctx: Context, token: str | None, queue_timeout: float = QUEUE_QUERY_TIMEOUT):
        self._token = token.strip().encode() if token and token.strip() else None
        self._registry = _Together(REGISTRY, QueueCollector(ctx, queue_timeout))

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._token is None:
            return not_found(start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return json_response(
                start_response, "405 Method Not Allowed", {"error": "use GET"}, [("Allow", "GET")]
            )
        if not bearer_matches(str(environ.get("HTTP_AUTHORIZATION") or ""), self._token):
            headers = [("WWW-Authenticate", 'Bearer realm="accessbot-metrics"')]
            return json_response(start_response, "401 Unauthorized", {"error": "metrics token"}, headers)
        payload = generate_latest(self._registry)  # type: ignore[arg-type]
        start_response(
            "200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(payload)))]
        )
        return [payload]


class MetricsServer:
    """GET /metrics on ACCESSBOT_METRICS_PORT, in a thread of its own (waitress, a few threads)."""

    def __init__(self, endpoint: MetricsEndpoint, host: str, port: int):
        from waitress import create_server

        def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == METRICS_PATH:
                return endpoint(environ, start_response)
            return not_found(start_response)

        self._server = listening(
            lambda: create_server(application, host=host, port=port, threads=2, ident="accessbot"),
            host,
            port,
            "ACCESSBOT_METRICS_PORT",
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("serving metrics on port %s%s", self.port, METRICS_PATH)
        return self

    def _run(self) -> None:
        from waitress import wasyncore

        # In short turns rather than waitress's run(), so that stop() ends the loop before closing.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.2, map=self._server._map, count=1)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._server.close()
        self._server.task_dispatcher.shutdown(timeout=5)


def metrics_server(settings: Settings, ctx: Context, host: str = "0.0.0.0") -> MetricsServer | None:
    """The metrics port's server (not started) when ACCESSBOT_METRICS_PORT is set, else None. Raises
    ConfigError as Settings.require_metrics does."""
    token = settings.require_metrics()
    if token is None or settings.metrics_port is None:
        return None
    return MetricsServer(MetricsEndpoint(ctx, token), host, settings.metrics_port)
