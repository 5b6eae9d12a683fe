"""Break-glass uses on record, and the admins' review messages about each."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.domain.status import OutboxKind
from bot.store.tables import AccessGrant, BreakGlass, OutboxMessage


def add(session: Session, grant: AccessGrant, reason: str, now: datetime) -> BreakGlass:
    """Record a break-glass use that made `grant`; flushed, so its id is known."""
    use = BreakGlass(
        grant_id=grant.id or 0, user_id=grant.user_id, model=grant.model, reason=reason, used_at=now
    )
    session.add(use)
    session.flush()
    return use


def lock(session: Session, use_id: int) -> BreakGlass | None:
    """The use, locked until the transaction ends."""
    return session.exec(select(BreakGlass).where(BreakGlass.id == use_id).with_for_update()).first()


def group_of(use: BreakGlass) -> str:
    """The outbox group of the admins' review messages about `use`."""
    return f"breakglass:{use.id}"


def review_posts(session: Session, use: BreakGlass) -> list[OutboxMessage]:
    """The admins' review messages about `use`, in the order they were queued."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.group_key == group_of(use), OutboxMessage.kind == OutboxKind.POST)
            .order_by(col(OutboxMessage.id))
        )
    )


def recent(session: Session, limit: int) -> list[BreakGlass]:
    """The latest uses, newest first."""
    return list(session.exec(select(BreakGlass).order_by(col(BreakGlass.id).desc()).limit(limit)))
