"""What a Prometheus server scrapes from GET /metrics: aggregate numbers only, never who or what.

prometheus_client's exposition format is what monitoring systems read; one registry per process, so
each process (every `serve` replica, the `worker`) counts what it did itself and Prometheus adds them
up across its targets. Names follow Prometheus's conventions: the unit in the name (`_seconds`),
`_total` on counters (the client adds it), histograms for latencies. Every label takes a value from a
small fixed set (a surface, an outbox kind, a reason class, a job, a configured receiver): never a user,
a channel, a model name from user input or free text.

The outbox's depth and age are read from the database at scrape time (bot/metrics_http.py), so they
describe the queue every process shares, not one process's view of it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds: Slack wants an ack within 3 s, and the bot answers by about 2 s (bot/slack/responder.py).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# Seconds: scheduled jobs run from milliseconds (nothing due) to seconds (a re-check of 100,000 grants).
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

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

REQUESTS = Counter(
    "accessbot_requests",
    "HTTP requests by surface (Slack's: slash_command, block_action, view_submission, view_closed, "
    "shortcut, message_shortcut, options, event, url_verification; unknown when refused before it could "
    "be read; gateway: the decision API) and outcome (acked, or refused by the edge: bad_signature, "
    "too_large, malformed; the gateway's: answered, unauthorized, disabled, bad_method).",
    ["surface", "outcome"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "accessbot_request_duration_seconds",
    "Seconds from a request's arrival to its answer, by surface: for Slack, the ack.",
    ["surface"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
SLACK_REPLAYS = Counter(
    "accessbot_slack_replays",
    "Signed Slack requests recognised as repeats (a replay, or Slack's retry of an event already taken "
    "in) and answered without acting again; they are counted as acked above too.",
    ["surface"],
    registry=REGISTRY,
)

OUTBOX_DELIVERED = Counter(
    "accessbot_outbox_delivered",
    "Outbox messages delivered to Slack by this process, by kind (post, update, respond, home).",
    ["kind"],
    registry=REGISTRY,
)
OUTBOX_FAILED = Counter(
    "accessbot_outbox_failed",
    "Outbox messages given up on by this process, by kind and reason class.",
    ["kind", "reason"],
    registry=REGISTRY,
)
OUTBOX_RETRIES = Counter(
    "accessbot_outbox_retries",
    "Failed attempts that will be tried again after a backoff, by kind and reason class (rate limits "
    "are counted apart, as pauses).",
    ["kind", "reason"],
    registry=REGISTRY,
)
RATE_LIMIT_PAUSES = Counter(
    "accessbot_slack_rate_limit_pauses",
    "Slack answers of 429 (rate limited) that paused a Web API method for its Retry-After, by method.",
    ["method"],
    registry=REGISTRY,
)
RATE_LIMIT_PAUSE_SECONDS = Counter(
    "accessbot_slack_rate_limit_pause_seconds",
    "Seconds of pause asked for by Slack's Retry-After, by Web API method.",
    ["method"],
    registry=REGISTRY,
)

WEBHOOK_DELIVERED = Counter(
    "accessbot_webhook_delivered",
    "Webhook events delivered (answered 2xx) by this process, by receiver (as named in webhooks.yaml).",
    ["receiver"],
    registry=REGISTRY,
)
WEBHOOK_FAILED = Counter(
    "accessbot_webhook_failed",
    "Webhook deliveries given up on (410 Gone, or out of attempts), by receiver and reason class.",
    ["receiver", "reason"],
    registry=REGISTRY,
)
WEBHOOK_RETRIES = Counter(
    "accessbot_webhook_retries",
    "Webhook attempts that will be tried again, by receiver and reason class.",
    ["receiver", "reason"],
    registry=REGISTRY,
)

JOB_RUNS = Counter(
    "accessbot_scheduler_runs",
    "Scheduled job runs by this process, by job and outcome (ok, failed).",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "accessbot_scheduler_run_duration_seconds",
    "Seconds one run of a scheduled job took, by job.",
    ["job"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
JOB_LAST_SUCCESS = Gauge(
    "accessbot_scheduler_last_success_timestamp_seconds",
    "When a scheduled job last ran without failing in this process (Unix time), by job.",
    ["job"],
    registry=REGISTRY,
)


def webhook_reason(status: int | None, error: str | None) -> str:
    """The reason class of a webhook attempt that did not deliver: `http_4xx` / `http_5xx` (and
    `http_429`, `http_410`), `timeout`, or `no_answer` (refused connection, DNS, TLS)."""
    if status is not None:
        return f"http_{status}" if status in (410, 429) else f"http_{status // 100}xx"
    return "timeout" if error == "timed out" else "no_answer"
