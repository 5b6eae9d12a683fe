"""What departing people hold, and revoking it in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, update
from sqlmodel import Session, col, select

from bot.domain.status import HELD_GRANT_STATUSES, GrantStatus, RequestStatus
from bot.domain.webhooks import GRANT_REVOKED
from bot.store import audit, webhooks
from bot.store.directory import chunks
from bot.store.tables import AccessGrant, AccessRequest


def count_held(session: Session, user_ids: Sequence[str]) -> tuple[int, int]:
    """(held grants, pending requests) of these people."""
    grants = requests = 0
    for part in chunks(list(user_ids)):
        grants += int(
            session.exec(
                select(func.count()).where(
                    col(AccessGrant.user_id).in_(part), col(AccessGrant.status).in_(HELD_GRANT_STATUSES)
                )
            ).one()
        )
        requests += int(
            session.exec(
                select(func.count()).where(
                    col(AccessRequest.requester_id).in_(part), AccessRequest.status == RequestStatus.PENDING
                )
            ).one()
        )
    return grants, requests


def pending_request_ids(session: Session, user_ids: Sequence[str]) -> list[int]:
    """Ids of these people's pending requests, oldest first."""
    found: list[int] = []
    for part in chunks(list(user_ids)):
        found += [
            i
            for i in session.exec(
                select(AccessRequest.id).where(
                    col(AccessRequest.requester_id).in_(part), AccessRequest.status == RequestStatus.PENDING
                )
            ).all()
            if i is not None
        ]
    return sorted(found)


def revoke_grants_of(
    session: Session, user_ids: Sequence[str], now: datetime, actor: str, reason: str
) -> int:
    """Revoke every held grant of these people, each audited (`grant.revoked`); returns how many."""
    revoked = 0
    for part in chunks(list(user_ids)):
        theirs = (col(AccessGrant.user_id).in_(part), col(AccessGrant.status).in_(HELD_GRANT_STATUSES))
        for status in HELD_GRANT_STATUSES:
            audit.record_rows(
                session,
                now,
                actor,
                "grant.revoked",
                "grant",
                AccessGrant.id,
                before={"status": status},
                after={"status": GrantStatus.REVOKED},
                detail={"reason": reason},
                where=(AccessGrant.status == status) & theirs[0],
            )
        webhooks.grant_events(
            session, GRANT_REVOKED, and_(*theirs), now=now, actor=actor, data={"reason": reason}
        )
        result = session.exec(  # type: ignore[call-overload]
            update(AccessGrant)
            .where(*theirs)
            .values(
                status=GrantStatus.REVOKED, ended_at=now, end_reason=reason, ended_by=actor, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        revoked += max(int(result.rowcount or 0), 0)
    return revoked
