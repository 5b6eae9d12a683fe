"""Counts and times the HTTP requests of one surface family (Slack's, or the gateway API's) in the metrics:
WSGI middleware around its handler.

The surface is what the handler found the request to be (it sets `environ[SURFACE]` once it has read
it; Slack's edge does, after the signature); a request refused before that is `unknown`, or the
family's own name. The outcome follows from the HTTP status the handler answered with, unless the
handler names it (`environ[OUTCOME]`: one status, two meanings). The time runs
from the request reaching the middleware to the handler returning its answer: for Slack, the ack.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot import metrics

SURFACE = "accessbot.surface"
OUTCOME = "accessbot.outcome"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Measured:
    """`inner`, its requests counted by surface and outcome and timed by surface. `outcomes` maps an
    HTTP status to the outcome it means (others: `http_<status>`); `surface` is the label of a request
    the handler did not name."""

    def __init__(self, inner: WsgiApp, *, surface: str, outcomes: Mapping[int, str]):
        self.inner = inner
        self.surface = surface
        self.outcomes = outcomes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        answered: list[int] = []

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self.inner(environ, recording)
        finally:
            status = answered[-1] if answered else 500
            surface = str(environ.get(SURFACE) or self.surface)
            outcome = str(environ.get(OUTCOME) or self.outcomes.get(status, f"http_{status}"))
            record(surface, outcome, time.perf_counter() - started)


def record(surface: str, outcome: str, seconds: float) -> None:
    """Count one request of `surface` with `outcome`, and time it (`seconds` from arrival to answer)."""
    metrics.REQUESTS.labels(surface, outcome).inc()
    metrics.REQUEST_SECONDS.labels(surface).observe(seconds)


# What each status means for a Slack request (bot/slack/edge.py) and a gateway check (bot/api.py).
SLACK_OUTCOMES = {200: "acked", 400: "malformed", 401: "bad_signature", 413: "too_large"}
GATEWAY_OUTCOMES = {200: "answered", 401: "unauthorized", 405: "bad_method", 503: "disabled"}
