"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no time zone, and comparing aware with naive
    datetimes raises, so every datetime inside the program is aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Real UTC time. Rows are stamped by the transaction's clock instead (see `stamped_at_flush`)."""
    return datetime.now(UTC)


# What a stamp column holds until its row is flushed: a time no row can really have.
UNSTAMPED = datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC)


def stamped_at_flush() -> datetime:
    """Default of a timestamp column: the row gets the time of the transaction's clock when it is flushed
    (bot/store/db.py), not the real time at which the object was made, so one injected clock stamps
    every row."""
    return UNSTAMPED
