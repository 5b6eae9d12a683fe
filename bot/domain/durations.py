"""Durations written the way people write them: 30m, 8h, 7d, 2w (and seconds, for tests and drills)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Unit words people type ("7days", "2 weeks"), each mapped to its one-letter unit.
_WORDS = {
    **{w: "s" for w in ("sec", "secs", "second", "seconds")},
    **{w: "m" for w in ("min", "mins", "minute", "minutes")},
    **{w: "h" for w in ("hr", "hrs", "hour", "hours")},
    **{w: "d" for w in ("day", "days")},
    **{w: "w" for w in ("wk", "wks", "week", "weeks")},
}
_PATTERN = re.compile(
    r"^\s*(\d{1,6})\s*([smhdw]|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\s*$", re.IGNORECASE
)
_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


class DurationError(ValueError):
    """A duration string that cannot be read."""


def looks_like_duration(text: str) -> bool:
    return bool(_PATTERN.match(text))


def parse_duration(text: str) -> timedelta:
    """Parse '7d' style text; raises DurationError with a message fit for a person."""
    match = _PATTERN.match(text or "")
    if not match:
        raise DurationError(f"'{text}' is not a duration; write a number and a unit, like 8h, 7d or 2w")
    amount, unit = int(match.group(1)), match.group(2).lower()
    unit = _WORDS.get(unit, unit)
    if amount == 0:
        raise DurationError("a duration must be longer than zero")
    return timedelta(seconds=amount * _UNITS[unit])


def format_duration(value: timedelta | int) -> str:
    """Human words for a duration: '7 days', '1 hour', '90 minutes'. Picks the largest exact unit."""
    seconds = int(value.total_seconds()) if isinstance(value, timedelta) else int(value)
    # Days rather than weeks: "14 days" compares at a glance with "30 days".
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {_NAMES[unit]}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def approximate_duration(value: timedelta) -> str:
    """Human words for a measured duration, rounded down to its largest unit: '3 days', '5 hours',
    '12 minutes' (a wait measured by a clock is never a whole number of days; 'about' is implied)."""
    seconds = max(0, int(value.total_seconds()))
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size:
            count = seconds // size
            return f"{count} {_NAMES[unit]}{'' if count == 1 else 's'}"
    return "less than a minute"


def compact_duration(seconds: int) -> str:
    """The shortest exact '7d' form of a duration, for commands and option values."""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
