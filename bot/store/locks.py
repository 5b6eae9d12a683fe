"""A barrier between directives and new grants.

Activating or lifting a directive takes it exclusively; creating a grant takes it shared. Without it, on
PostgreSQL a grant approved at the very moment a directive activates could be created after the
directive's set-based update had chosen its rows, and escape the suspension. SQLite already runs one
write transaction at a time, so there it is a no-op.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

_KEY = 0x4163_6365_7373  # any constant shared by every AccessBot process


def directive_barrier(session: Session, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.exec(text(f"SELECT {function}(:key)").bindparams(key=_KEY))  # type: ignore[call-overload]
