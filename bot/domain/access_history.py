"""Who could use a model when: the intervals in which a grant could be used, from its recorded history.

A grant could be used at an instant T when T lies in `[starts_at, expires_at)` and the last status change
recorded for it at or before T left it active. The grant is active from `starts_at` (its creation is
recorded at that instant); later changes (suspended by a directive or a hold of the entitlement rule,
reinstated, revoked, expired) take effect at the instant the audit trail records them, in the order it
recorded them. `expires_at` ends use whether or not the expiry job has run yet, as the gateway refuses a
grant past its end (bot/services/gateway.py).

Boundaries are half-open: a grant that starts at 09:00 can be used at 09:00; one suspended, revoked or
expiring at 10:00 cannot be used at 10:00, and one reinstated at 11:00 can be used at 11:00.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.status import GrantStatus


@dataclass(frozen=True)
class StatusChange:
    """A status the audit trail recorded for a grant (`status`: a GrantStatus word) at instant `at`."""

    at: datetime
    status: str


class IntervalEnd(StrEnum):
    """Why an interval of use ended: a recorded change, the grant's end time, or the end of the window
    asked about (use went on past it)."""

    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    WINDOW_END = "window_end"


@dataclass(frozen=True)
class Interval:
    """`[start, end)`: the grant could be used from `start` to just before `end`."""

    start: datetime
    end: datetime
    ended_by: IntervalEnd


@dataclass(frozen=True)
class GrantSpan:
    """A grant as recorded when it was made: whose, for which model, from which request, and its span."""

    id: int
    user_id: str
    name: str | None  # the holder's name in the directory; None when no longer there
    model: str
    request_id: int | None
    starts_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ApprovalRecord:
    """One approver's decision on a request: the step (position from 0, its name), who, what, when."""

    position: int
    step: str
    approver_id: str
    approver_name: str | None
    verdict: str
    decided_at: datetime


@dataclass(frozen=True)
class LicenceBasis:
    """A licence a grant relied on."""

    licence_id: int
    authority: str
    number: str
    kind: str
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class Holder:
    """Someone who could use the model, on the basis of `grant`, approved by `approvals`, relying on
    `licences` (in force at the instant asked about)."""

    grant: GrantSpan
    approvals: list[ApprovalRecord]
    licences: list[LicenceBasis]


@dataclass(frozen=True)
class AccessAt:
    """Everyone who could use `model` at `at`, ordered by Slack user ID."""

    model: str
    at: datetime
    holders: list[Holder]


@dataclass(frozen=True)
class UsePeriod:
    """An interval in which the person could use `grant.model` under `grant`."""

    grant: GrantSpan
    interval: Interval


@dataclass(frozen=True)
class PersonAccess:
    """Every interval within `[start, end)` in which `user_id` could use some model, by model then
    start."""

    user_id: str
    name: str | None
    start: datetime
    end: datetime
    periods: list[UsePeriod]


def usable_at(
    starts_at: datetime, expires_at: datetime, changes: Sequence[StatusChange], at: datetime
) -> bool:
    """Whether the grant could be used at `at` (see the module docstring). `changes` are the grant's
    status changes after its creation, in recorded order; those after `at` are ignored."""
    if not starts_at <= at < expires_at:
        return False
    status: str = GrantStatus.ACTIVE
    for change in changes:
        if change.at > at:
            break
        status = change.status
    return status == GrantStatus.ACTIVE


def usable_intervals(
    starts_at: datetime,
    expires_at: datetime,
    changes: Sequence[StatusChange],
    start: datetime,
    end: datetime,
) -> list[Interval]:
    """The maximal intervals within the window `[start, end)` in which the grant could be used, oldest
    first; empty when it could not be used at all. Agrees with usable_at at every instant: T lies in one
    of the intervals exactly when usable_at(…, T). `changes` as for usable_at."""
    limit = min(expires_at, end)
    intervals: list[Interval] = []
    status: str = GrantStatus.ACTIVE
    since = starts_at  # when the current status took effect
    for change in [*changes, None]:
        until = limit if change is None else min(max(change.at, starts_at), limit)
        if status == GrantStatus.ACTIVE:
            low, high = max(since, start), until
            if low < high:
                intervals.append(Interval(low, high, _ending(change, high, expires_at, end)))
        if change is None or change.at >= limit:
            break
        if change.at > since:
            since = change.at
        status = change.status
    return _merged(intervals)


def _ending(change: StatusChange | None, high: datetime, expires_at: datetime, end: datetime) -> IntervalEnd:
    if high >= expires_at:
        return IntervalEnd.EXPIRED
    if high >= end:
        return IntervalEnd.WINDOW_END
    assert change is not None  # an interval ends at the limit or at a change
    if change.status == GrantStatus.REVOKED:
        return IntervalEnd.REVOKED
    if change.status == GrantStatus.EXPIRED:
        return IntervalEnd.EXPIRED
    return IntervalEnd.SUSPENDED


def _merged(intervals: list[Interval]) -> list[Interval]:
    """Adjacent intervals as one: an `active` recorded while already active (a directive lifted while
    nothing else held the grant) does not break use."""
    merged: list[Interval] = []
    for interval in intervals:
        if merged and merged[-1].end == interval.start:
            merged[-1] = Interval(merged[-1].start, interval.end, interval.ended_by)
        else:
            merged.append(interval)
    return merged
