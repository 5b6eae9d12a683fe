"""Advisory locks on PostgreSQL: the barrier between directives and new grants, and named locks.

The barrier: activating or lifting a directive takes it exclusively; creating a grant takes it shared.
Without it, on PostgreSQL a grant approved at the very moment a directive activates could be created
after the directive's set-based update had chosen its rows, and escape the suspension. SQLite already
runs one write transaction at a time, so there it is a no-op.

A named lock (`one_at_a_time`) makes transactions that read and then write something no row stands for
yet take turns.
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


def one_at_a_time(session: Session, name: str) -> None:
    """Until this transaction ends, transactions that ask for the same `name` (any string) wait for it:
    a read-then-write on something no row stands for yet (an audit event written at most once per
    window, say) then runs in turn. A PostgreSQL advisory lock keyed by a 64-bit hash of the name; a
    no-op on SQLite, which runs one write transaction at a time anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return
    statement = text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))").bindparams(name=name)
    session.exec(statement)  # type: ignore[call-overload]
