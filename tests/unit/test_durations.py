"""Durations as people type them (7d, 8h) and as the bot writes them back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import (
    DurationError,
    compact_duration,
    format_duration,
    looks_like_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("30m", timedelta(minutes=30)),
        ("8h", timedelta(hours=8)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("7D", timedelta(days=7)),
        (" 7 d ", timedelta(days=7)),
        ("999999s", timedelta(seconds=999999)),
        ("7days", timedelta(days=7)),
        ("1 day", timedelta(days=1)),
        ("2 weeks", timedelta(weeks=2)),
        ("8hrs", timedelta(hours=8)),
        ("90 minutes", timedelta(minutes=90)),
    ],
)
def test_parse_duration_reads_each_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "7", "d", "7x", "7dayz", "1.5d", "-1d", "7d 2h", "1234567d", "week"]
)
def test_parse_duration_rejects_text_that_is_not_a_duration(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert str(caught.value) == (f"'{text}' is not a duration; write a number and a unit, like 8h, 7d or 2w")


def test_parse_duration_of_none_is_a_duration_error_not_a_crash() -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0d", "0s", "000h"])
def test_parse_duration_refuses_zero(text: str) -> None:
    with pytest.raises(DurationError, match=r"^a duration must be longer than zero$"):
        parse_duration(text)


def test_duration_error_is_a_value_error() -> None:
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(("text", "expected"), [("7d", True), (" 2W ", True), ("7x", False), ("7", False)])
def test_looks_like_duration(text: str, expected: bool) -> None:
    assert looks_like_duration(text) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(days=1), "1 day"),
        (timedelta(days=7), "7 days"),
        # Days, not weeks, so durations compare at a glance.
        (timedelta(weeks=2), "14 days"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=61), "61 seconds"),
        (timedelta(0), "0 seconds"),
        (3600, "1 hour"),
        (45, "45 seconds"),
    ],
)
def test_format_duration_uses_the_largest_exact_unit(value: timedelta | int, expected: str) -> None:
    assert format_duration(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(7 * 86400, "7d"), (14 * 86400, "14d"), (8 * 3600, "8h"), (90 * 60, "90m"), (61, "61s"), (0, "0s")],
)
def test_compact_duration(seconds: int, expected: str) -> None:
    assert compact_duration(seconds) == expected


@pytest.mark.parametrize("text", ["30s", "30m", "8h", "7d", "2w", "90m", "36h"])
def test_compact_duration_reads_back_as_the_same_duration(text: str) -> None:
    value = parse_duration(text)
    assert parse_duration(compact_duration(int(value.total_seconds()))) == value
