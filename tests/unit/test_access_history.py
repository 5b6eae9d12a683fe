"""The rule for "could use this grant then" (bot/domain/access_history.py): the intervals agree with the
instant-by-instant answer, on generated histories, and the boundaries are half-open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.access_history import Interval, IntervalEnd, StatusChange, usable_at, usable_intervals
from bot.domain.status import GrantStatus

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


STATUSES = st.sampled_from([s.value for s in GrantStatus])


@st.composite
def histories(draw: st.DrawFn) -> tuple[datetime, datetime, list[StatusChange], datetime, datetime]:
    starts = draw(st.integers(0, 20))
    expires = draw(st.integers(starts + 1, 80))
    offsets = sorted(draw(st.lists(st.integers(starts, 90), max_size=8)))
    changes = [StatusChange(at(m), draw(STATUSES)) for m in offsets]
    low = draw(st.integers(-5, 95))
    high = draw(st.integers(low + 1, 100))
    return at(starts), at(expires), changes, at(low), at(high)


@settings(max_examples=300, deadline=None)
@given(histories())
def test_intervals_hold_exactly_the_instants_of_use(
    history: tuple[datetime, datetime, list[StatusChange], datetime, datetime],
) -> None:
    starts, expires, changes, low, high = history
    intervals = usable_intervals(starts, expires, changes, low, high)
    for first, second in pairwise(intervals):
        assert first.end < second.start  # disjoint, ordered, and merged when they touch
    for minute in range(-6, 101):
        moment = at(minute)
        inside = any(i.start <= moment < i.end for i in intervals)
        expected = low <= moment < high and usable_at(starts, expires, changes, moment)
        assert inside == expected, moment
    for interval in intervals:
        assert interval.start < interval.end
        if interval.end == high and high < expires:
            assert interval.ended_by == IntervalEnd.WINDOW_END


def test_boundaries_are_half_open() -> None:
    changes = [StatusChange(at(10), GrantStatus.SUSPENDED), StatusChange(at(20), GrantStatus.ACTIVE)]
    assert not usable_at(at(0), at(30), changes, at(0) - timedelta(microseconds=1))
    assert usable_at(at(0), at(30), changes, at(0))
    assert not usable_at(at(0), at(30), changes, at(10))
    assert usable_at(at(0), at(30), changes, at(20))
    assert not usable_at(at(0), at(30), changes, at(30))
    assert usable_intervals(at(0), at(30), changes, at(-60), at(60)) == [
        Interval(at(0), at(10), IntervalEnd.SUSPENDED),
        Interval(at(20), at(30), IntervalEnd.EXPIRED),
    ]


def test_what_ended_use_is_named() -> None:
    revoked = [StatusChange(at(5), GrantStatus.REVOKED)]
    assert usable_intervals(at(0), at(30), revoked, at(0), at(60))[0].ended_by == IntervalEnd.REVOKED
    # The expiry job records `expired` after the end: use ended at the end, by expiry.
    late = [StatusChange(at(35), GrantStatus.EXPIRED)]
    assert usable_intervals(at(0), at(30), late, at(0), at(60)) == [
        Interval(at(0), at(30), IntervalEnd.EXPIRED)
    ]
    # A reinstatement recorded while nothing held the grant does not split its use.
    again = [StatusChange(at(5), GrantStatus.ACTIVE)]
    assert usable_intervals(at(0), at(30), again, at(0), at(10)) == [
        Interval(at(0), at(10), IntervalEnd.WINDOW_END)
    ]
    # Two changes recorded at one instant: the later one stands.
    both = [StatusChange(at(5), GrantStatus.SUSPENDED), StatusChange(at(5), GrantStatus.ACTIVE)]
    assert usable_intervals(at(0), at(30), both, at(0), at(60)) == [
        Interval(at(0), at(30), IntervalEnd.EXPIRED)
    ]
