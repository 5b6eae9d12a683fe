"""The audit trail: every state change appends one event in the same transaction as the change."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, cast, insert, literal
from sqlmodel import Session, select

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


def record_rows(
    session: Session,
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
) -> None:
    """One audit event per matching row, written by the database in one statement."""
    session.exec(  # type: ignore[call-overload]
        insert(AuditEvent).from_select(
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
    )
