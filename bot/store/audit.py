"""The audit trail: every state change appends one event in the same transaction as the change."""

from __future__ import annotations

import getpass
from typing import Any

from sqlmodel import Session

from bot.store.db import now_of
from bot.store.tables import AuditEvent

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
