"""Counters a Prometheus server can scrape from GET /metrics: aggregate numbers only, never who or what.

prometheus_client's exposition format is what monitoring systems read; one registry per process.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

GATEWAY_CHECKS = Counter(
    "accessbot_gateway_checks",
    "Gateway checks answered by POST /v1/access/check, by whether they allowed and why.",
    ["allow", "code"],
    registry=REGISTRY,
)
GATEWAY_DENIALS_AUDITED = Counter(
    "accessbot_gateway_denials_audited",
    "Gateway denials written to the audit log (repeats within the audit window are counted only above).",
    registry=REGISTRY,
)


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus's text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
