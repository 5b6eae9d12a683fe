"""When a waiting approval step reminds its approvers and when it escalates. Pure: no database, no
Slack. Timings come from policy.yaml, or the model's own in models.yaml (Catalog.reminders_for)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.catalog import ReminderTimings


def reminders_due(started_at: datetime, now: datetime, timings: ReminderTimings) -> int:
    """How many reminders the step should have had by `now`: one each `remind_after` it has waited
    since `started_at`, at most `reminders`. Several that fell due while nothing ran count as one
    reminder sent late (the caller sends one, and records the count)."""
    if timings.reminders <= 0 or timings.remind_after.total_seconds() <= 0 or now <= started_at:
        return 0
    return min(timings.reminders, int((now - started_at) / timings.remind_after))


def escalation_due(started_at: datetime, now: datetime, timings: ReminderTimings) -> bool:
    """Whether the step has waited `escalate_after` since `started_at`."""
    return now - started_at >= timings.escalate_after


def next_follow_up(
    started_at: datetime, timings: ReminderTimings, reminders_sent: int, escalated: bool
) -> datetime | None:
    """When the step next owes a reminder (the next one not yet sent) or its escalation, whichever comes
    first; None when it owes nothing more."""
    due: list[datetime] = []
    if reminders_sent < timings.reminders and timings.remind_after.total_seconds() > 0:
        due.append(started_at + timings.remind_after * (reminders_sent + 1))
    if not escalated:
        due.append(started_at + timings.escalate_after)
    return min(due) if due else None
