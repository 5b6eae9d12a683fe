"""The audit trail: every state change appends one event in the same transaction as the change."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Insert, String, cast, insert, literal
from sqlmodel import Session, col, select

from bot.store.db import now_of
from bot.store.tables import AuditEvent
from bot.store.types import UTCDateTime

SYSTEM = "system"


def cli_actor() -> str:
    """Who ran a CLI command, for the audit trail: `cli:<operating-system user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "cli:unknown"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=now_of(session),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=before,
        after=after,
        detail=detail,
    )
    session.add(event)
    return event


def effective(effective_at: datetime | None, now: datetime) -> dict[str, str]:
    """The `effective_at` detail of a change recorded at `now` that took effect earlier, at `effective_at`
    (a scheduled directive put in force late, a licence that lapsed at midnight and was found later);
    empty when it took effect as recorded. Point-in-time reports read it (bot/store/access_history.py)."""
    if effective_at is None or effective_at >= now:
        return {}
    return {"effective_at": effective_at.isoformat()}


def record_rows(session: Session, *args: Any, **kwargs: Any) -> None:
    """One audit event per matching row, written by the database in one statement: the statement of
    rows_insert (same arguments), executed in `session`."""
    session.exec(rows_insert(*args, **kwargs))  # type: ignore[call-overload]


def rows_insert(
    now: datetime,
    actor: str,
    action: str,
    subject_type: str,
    id_column: Any,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    detail: dict[str, Any],
    where: Any,
) -> Insert:
    """The INSERT … SELECT of one audit event per row matching `where` (`id_column` names each row's
    subject), not yet executed: record_rows executes it; a statement that also makes the change it
    records adds to it (a data-modifying WITH on PostgreSQL)."""
    return insert(AuditEvent).from_select(
        ["at", "actor", "action", "subject_type", "subject_id", "before", "after", "detail"],
        select(
            literal(now, UTCDateTime),
            literal(actor, String),
            literal(action, String),
            literal(subject_type, String),
            cast(id_column, String),
            literal(before, JSON),
            literal(after, JSON),
            literal(detail, JSON),
        ).where(where),
    )


EXPORT_BATCH = 1000


def stream_events(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> Iterator[AuditEvent]:
    """Audit events in id order, `since` <= at < `until` (either bound optional, UTC), fetched
    EXPORT_BATCH at a time (a server-side cursor on PostgreSQL), so that memory stays the same whatever
    the number of events: the session keeps no event the caller has let go of."""
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    yield from session.exec(query.execution_options(yield_per=EXPORT_BATCH))
