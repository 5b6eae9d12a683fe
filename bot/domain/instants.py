"""Reading an instant people type (a CLI option, a slash command's argument): ISO 8601 with its zone."""

from __future__ import annotations

from datetime import UTC, datetime

# Times the database and every later computation (a day added, a zone shown) can hold.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9998, 12, 31, tzinfo=UTC)
EXAMPLE = "like 2026-03-01T09:00:00Z"


class InstantError(ValueError):
    """Text that is no usable instant; the message completes "'<text>' …" ("is not an ISO 8601 time
    (like …)")."""


def parse_instant(text: str) -> datetime:
    """An ISO 8601 time with its zone (`2026-03-01T09:00:00Z`, `2026-03-01T09:00Z`, `…+02:00`), in UTC.
    Raises InstantError for text that is no such time, has no zone, or lies outside 1970 to 9998 (a
    zone can push 0001-01-01 or 9999-12-31 out of the range Python's dates hold)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InstantError(f"is not an ISO 8601 time ({EXAMPLE})") from None
    if parsed.tzinfo is None:
        raise InstantError(f"needs a time zone ({EXAMPLE} or +02:00)")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InstantError("must lie between 1970 and 9998")
    return utc
