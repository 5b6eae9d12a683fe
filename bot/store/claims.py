"""Claiming queued rows with a lease, in lanes: the durability rules the Slack outbox (bot/store/outbox.py)
and webhook deliveries (bot/store/webhooks.py) share.

A queue table has `id`, `lane`, `status` (OutboxStatus), `attempts`, `next_attempt_at`, `claimed_by`
and `claimed_until`. A row is due when pending and its `next_attempt_at` has come, or when `sending`
under a lease that ran out (its worker died or hung mid-send: it may have been sent). It waits while an
earlier row of its lane is unfinished, so each lane is delivered in order. Claims take the rows with
FOR UPDATE SKIP LOCKED (PostgreSQL), so that concurrent claimers never take the same row; an outcome is
written only while its worker still holds the claim.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, not_, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.status import OutboxStatus

# Rows not yet delivered nor given up on.
UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def due_query(table: Any, *where: ColumnElement[bool]) -> Any:
    """The SELECT … FOR UPDATE SKIP LOCKED of `table`'s due rows matching `where`, oldest first, with
    bound parameters `now` (aware UTC) and `limit`. A sender claims many times a second: build it once
    and hand it to claim_due (composing it costs more Python than running it)."""
    now = bindparam("now")
    earlier = aliased(table)
    blocked_by_earlier = exists().where(
        earlier.lane == table.lane,
        earlier.id < table.id,
        col(earlier.status).in_(UNFINISHED),
    )
    due = or_(
        and_(table.status == OutboxStatus.PENDING, col(table.next_attempt_at) <= now),
        and_(table.status == OutboxStatus.SENDING, col(table.claimed_until) < now),
    )
    return (
        select(table)
        .where(due, not_(blocked_by_earlier), *where)
        .order_by(col(table.id))
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )


def claim_due(
    session: Session,
    query: Any,
    *,
    now: datetime,
    limit: int,
    worker_id: str,
    lease: timedelta,
    params: Mapping[str, Any] | None = None,
) -> list[tuple[Any, bool]]:
    """Claim up to `limit` rows of `query` (a due_query, with `params` for the parameters its own
    conditions bind), oldest first, for `worker_id` until `now + lease`; each claim counts an attempt.
    Returns (row, taken_over): taken_over when the row was `sending` under a lease that ran out, so it
    may have been delivered already. The caller commits."""
    claimed = []
    for item in session.exec(query, params={**(params or {}), "now": now, "limit": limit}):
        taken_over = item.status == OutboxStatus.SENDING
        item.status = OutboxStatus.SENDING
        item.claimed_by = worker_id
        item.claimed_until = now + lease
        item.attempts += 1
        session.add(item)
        claimed.append((item, taken_over))
    return claimed


def renew_claim(session: Session, table: Any, item_id: int, worker_id: str, until: datetime) -> bool:
    """Extend `worker_id`'s claim on a `sending` row to `until`; False if another worker holds it now."""
    result = session.exec(  # type: ignore[call-overload]
        update(table)
        .where(
            col(table.id) == item_id, col(table.claimed_by) == worker_id, table.status == OutboxStatus.SENDING
        )
        .values(claimed_until=until)
    )
    return bool(result.rowcount)


def renew_claims(
    session: Session, table: Any, item_ids: Collection[int], worker_id: str, until: datetime
) -> int:
    """Extend `worker_id`'s claims on those of `item_ids` still `sending` under it to `until` (the
    heartbeat of a live sender); how many it still held."""
    result = session.exec(  # type: ignore[call-overload]
        update(table)
        .where(
            col(table.id).in_(list(item_ids)),
            col(table.claimed_by) == worker_id,
            table.status == OutboxStatus.SENDING,
        )
        .values(claimed_until=until)
    )
    return int(result.rowcount or 0)


def record_attempt(
    session: Session,
    table: Any,
    item_id: int,
    worker_id: str,
    values: dict[str, Any],
    *,
    give_back_attempt: bool = False,
) -> None:
    """Write an attempt's outcome (column values) to the row, only while `worker_id` still holds the
    claim: if its lease ran out and another worker took the row over, that worker's result counts.
    `give_back_attempt`: the attempt the claim counted does not count (a rate limit, a wait)."""
    if give_back_attempt:
        values = {**values, "attempts": table.attempts - 1}
    session.exec(  # type: ignore[call-overload]
        update(table).where(col(table.id) == item_id, col(table.claimed_by) == worker_id).values(**values)
    )


def unfinished_count(session: Session, table: Any) -> int:
    """How many rows of `table` are pending or being sent."""
    return int(
        session.exec(select(func.count()).select_from(table).where(col(table.status).in_(UNFINISHED))).one()
    )
