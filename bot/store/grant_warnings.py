"""Which expiry warnings were queued for which grant (GrantWarning), and the grants due one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from bot.store.tables import AccessGrant, GrantWarning
from bot.store.tables.access import grant_held


def claim_expiring(
    session: Session, now: datetime, models_by_lead: Mapping[timedelta, Iterable[str]], limit: int
) -> list[AccessGrant]:
    """Held grants that reached a lead time of their model (`models_by_lead`: lead -> model slugs that
    warn then) with no warning recorded for it yet, soonest end first, at most `limit`; locked with SKIP
    LOCKED so that two servers never warn about the same grant at once."""
    reached = [
        (
            col(AccessGrant.model).in_(sorted(models))
            & (col(AccessGrant.expires_at) <= now + lead)
            & ~select(GrantWarning.grant_id)
            .where(
                GrantWarning.grant_id == AccessGrant.id,
                GrantWarning.lead_seconds == int(lead.total_seconds()),
            )
            .exists()
        )
        for lead, models in models_by_lead.items()
    ]
    if not reached:
        return []
    return list(
        session.exec(
            select(AccessGrant)
            .where(
                grant_held(),
                col(AccessGrant.expires_at) > now,
                or_(*reached),
            )
            .order_by(col(AccessGrant.expires_at), col(AccessGrant.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def warned_leads(session: Session, grant_ids: list[int]) -> dict[int, set[timedelta]]:
    """Grant id -> the lead times already recorded as warned."""
    found: dict[int, set[timedelta]] = defaultdict(set)
    if grant_ids:
        for grant_id, seconds in session.exec(
            select(GrantWarning.grant_id, GrantWarning.lead_seconds).where(
                col(GrantWarning.grant_id).in_(grant_ids)
            )
        ):
            found[grant_id].add(timedelta(seconds=seconds))
    return found


def record_warned(session: Session, grant_id: int, leads: Iterable[timedelta], now: datetime) -> None:
    """Record `leads` as warned for the grant (sent, or passed over: a grant no longer than the lead)."""
    session.add_all(
        GrantWarning(grant_id=grant_id, lead_seconds=int(lead.total_seconds()), queued_at=now)
        for lead in leads
    )
    session.flush()


def forget_warnings(session: Session, grant_id: int) -> None:
    """The grant's warnings start again (it was extended: it has a new end)."""
    session.exec(delete(GrantWarning).where(col(GrantWarning.grant_id) == grant_id))  # type: ignore[call-overload]
