"""The workspace-wide post pace (bot/notify/post_rate.py), on a clock the test moves."""

from __future__ import annotations

import pytest

from bot.notify.post_rate import PostRate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def waits(rate: PostRate, count: int) -> list[float]:
    return [round(rate.reserve(), 3) for _ in range(count)]


def test_a_second_of_burst_goes_at_once_then_posts_are_spaced_at_the_stated_rate() -> None:
    pace = PostRate(1200, clock=Clock())  # 20 a second
    assert waits(pace, 20) == [0.0] * 20
    assert waits(pace, 3) == [0.05, 0.1, 0.15]


def test_slots_are_never_shared_and_an_idle_second_refills_the_burst() -> None:
    clock = Clock()
    pace = PostRate(600, clock=clock)  # 10 a second
    first = waits(pace, 15)
    assert len(set(first[10:])) == 5  # each waiting post has a slot of its own
    clock.now += 10
    assert waits(pace, 10) == [0.0] * 10


def test_a_429_holds_new_posts_for_retry_after_without_a_burst_after_it() -> None:
    clock = Clock()
    pace = PostRate(1200, clock=clock)
    waits(pace, 20)
    pace.limited(2.0)
    assert pace.rate == 20  # a lone 429 is an accident of timing: the pace stands
    assert waits(pace, 3) == [2.0, 2.05, 2.1]


def test_429s_to_posts_sent_after_the_pause_halve_the_pace_which_recovers_once_they_stop() -> None:
    clock = Clock()
    pace = PostRate(1200, clock=clock)
    pace.limited(1.0)
    pace.limited(1.0)  # another post already on its way when the first 429 came: not a repeat
    assert pace.rate == 20
    clock.now += 1.5  # a post sent after the pause is refused again: the limit is lower than stated
    pace.limited(1.0)
    assert pace.rate == 10
    clock.now += 1.0
    pace.limited(1.0)
    assert pace.rate == 5
    clock.now += 10.0  # the pace holds while 429s are recent
    pace.reserve()
    assert pace.rate == 5
    clock.now += 5.0  # then regains a twentieth of the stated rate a second
    pace.reserve()
    assert pace.rate == pytest.approx(5 + 4 * 1)
    clock.now += 60
    pace.reserve()
    assert pace.rate == 20


def test_a_slowed_pace_bursts_no_more_than_a_second_of_itself() -> None:
    clock = Clock()
    pace = PostRate(1200, clock=clock)  # 20 a second stated
    pace.limited(1.0)
    clock.now += 1.5
    pace.limited(1.0)  # refused again after the pause: the pace halves to 10 a second
    assert pace.rate == 10
    clock.now += 5.0  # idle long enough to refill the bucket, too soon for the pace to recover
    assert waits(pace, 12) == [0.0] * 10 + [0.1, 0.2]


def test_the_pace_never_falls_below_a_sixteenth_of_the_stated_rate() -> None:
    clock = Clock()
    pace = PostRate(1200, clock=clock)
    pace.limited(0.0)
    for _ in range(10):
        pace.limited(0.0)
    assert pace.rate == pytest.approx(20 / 16)
