"""The pieces behind /metrics that need no server: a failing scheduled job's count, and the reason
classes failures are counted under."""

from __future__ import annotations

import pytest

from bot import metrics
from bot.notify.reasons import reason_class
from bot.scheduler import Job, Scheduler


def test_a_failing_job_is_counted_as_failed_and_runs_again() -> None:
    def boom() -> int:
        raise RuntimeError("the database went away")

    def runs(outcome: str) -> float:
        return (
            metrics.REGISTRY.get_sample_value(
                "accessbot_scheduler_runs_total", {"job": "unit boom", "outcome": outcome}
            )
            or 0.0
        )

    scheduler = Scheduler([Job("unit boom", boom, 60), Job("unit fine", lambda: 3, 60)])
    before = runs("failed")
    assert scheduler.run_due(force=True) == {"unit fine": 3}
    assert scheduler.run_due(force=True) == {"unit fine": 3}
    assert runs("failed") - before == 2 and runs("ok") == 0
    durations = metrics.REGISTRY.get_sample_value(
        "accessbot_scheduler_run_duration_seconds_count", {"job": "unit fine"}
    )
    assert durations is not None and durations >= 2


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("channel_not_found", "recipient"),
        ("not_in_channel", "recipient"),
        ("user_disabled", "recipient"),
        ("account_deactivated", "account_deactivated"),
        ("invalid_auth", "auth"),
        ("missing_scope", "auth"),
        ("invalid_blocks", "message"),
        ("msg_too_long", "message"),
        ("http_404: expired_url", "response_url"),
        ("http_400: used_url", "response_url"),
        ("internal_error", "slack_unavailable"),
        ("http_503", "slack_unavailable"),
        ("TimeoutError", "network"),
        ("URLError", "network"),
        ("gave up after 15 attempts: http_503", "gave_up"),
        ("could not compose the message: KeyError", "compose"),
        ("compose: OperationalError", "compose"),
        ("the message to update was never delivered", "recipient"),
        ("something Slack invents next year", "other"),
        (None, "other"),
    ],
)
def test_failures_are_counted_under_a_few_fixed_reasons(error: str | None, reason: str) -> None:
    assert reason_class(error) == reason


def test_webhook_reasons_are_status_classes() -> None:
    assert metrics.webhook_reason(503, "HTTP 503") == "http_5xx"
    assert metrics.webhook_reason(404, "HTTP 404") == "http_4xx"
    assert metrics.webhook_reason(429, "HTTP 429") == "http_429"
    assert metrics.webhook_reason(None, "timed out") == "timeout"
    assert metrics.webhook_reason(None, "no answer (ConnectionRefusedError)") == "no_answer"
