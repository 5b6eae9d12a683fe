"""The outbox table (see bot/notify/): bulk queueing, claiming due rows with a lease, recording each
attempt's outcome under that lease, and the lists and counts the CLI and tests read.

Messages are queued in the service's own transaction through bot/notify/outbox.py; everything here
that changes a row the sender holds does so only while that sender's claim (`claimed_by`) is on it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, and_, exists, func, insert, literal, not_, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.status import OutboxStatus
from bot.store import audit
from bot.store.db import OUTBOX_QUEUED, Database, now_of
from bot.store.tables import OutboxMessage
from bot.store.types import UTCDateTime

# Rows not yet delivered nor given up on.
UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.SENDING)

_BULK_COLUMNS = (
    "kind", "lane", "address", "ref_id", "payload", "group_key", "status", "attempts", "uncertain",
    "next_attempt_at", "created_at", "check_account",
)  # fmt: skip


def insert_selected(
    session: Session,
    kind: str,
    rows: Any,
    payload: dict[str, Any],
    *,
    now: datetime,
    group_key: str | None = None,
) -> None:
    """One pending row of `kind` per row of `rows` (a SELECT of `lane`, `address`, `ref_id` and
    optionally a boolean `check_account`), all with the same payload, in a single INSERT … SELECT, in
    lane order. Marks the transaction as having queued messages."""
    source = rows.subquery()
    check_account = source.c.check_account if "check_account" in source.c else literal(False, Boolean)
    session.exec(  # type: ignore[call-overload]
        insert(OutboxMessage).from_select(
            list(_BULK_COLUMNS),
            select(
                literal(kind, String),
                source.c.lane,
                source.c.address,
                source.c.ref_id,
                literal(payload, JSON),
                literal(group_key, String),
                literal(OutboxStatus.PENDING.value, String),
                literal(0, Integer),
                literal(False, Boolean),
                literal(now, UTCDateTime),
                literal(now, UTCDateTime),
                check_account,
            ).order_by(source.c.lane),
        )
    )
    session.info[OUTBOX_QUEUED] = True


# -- the sender's claims ---------------------------------------------------------------------------------


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    broadcast: bool,
    worker_id: str,
    lease: timedelta,
    skip_kinds: Collection[str] = (),
    skip_lanes: Collection[str] = (),
    skip_ids: Collection[int] = (),
) -> list[OutboxMessage]:
    """Claim up to `limit` rows that can go now, oldest first, for `worker_id` until `now + lease`.

    Due: pending with `next_attempt_at <= now`, or `sending` with an expired lease (its worker died or
    hung mid-send; the row becomes `uncertain`, as it may have been sent). A row waits while an earlier
    row of its lane is unfinished. `broadcast` picks rows with a group key (directive announcements),
    otherwise those without. Each claim counts an attempt. Uses FOR UPDATE SKIP LOCKED (PostgreSQL),
    so that concurrent claimers never take the same row; the caller commits.
    """
    earlier = aliased(OutboxMessage)
    blocked_by_earlier = exists().where(
        earlier.lane == OutboxMessage.lane,
        earlier.id < OutboxMessage.id,
        col(earlier.status).in_(UNFINISHED),
    )
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, col(OutboxMessage.next_attempt_at) <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, col(OutboxMessage.claimed_until) < now),
    )
    grouped = (
        col(OutboxMessage.group_key).is_not(None) if broadcast else col(OutboxMessage.group_key).is_(None)
    )
    query = select(OutboxMessage).where(grouped, due, not_(blocked_by_earlier))
    if skip_kinds:
        query = query.where(col(OutboxMessage.kind).not_in(list(skip_kinds)))
    if skip_lanes:
        query = query.where(col(OutboxMessage.lane).not_in(list(skip_lanes)))
    if skip_ids:
        query = query.where(col(OutboxMessage.id).not_in(list(skip_ids)))
    query = query.order_by(col(OutboxMessage.id)).limit(limit).with_for_update(skip_locked=True)
    items = list(session.exec(query))
    for item in items:
        if item.status == OutboxStatus.SENDING:
            item.uncertain = True
        item.status = OutboxStatus.SENDING
        item.claimed_by = worker_id
        item.claimed_until = now + lease
        item.attempts += 1
        session.add(item)
    return items


def renew_claim(session: Session, item_id: int, worker_id: str, until: datetime) -> bool:
    """Extend `worker_id`'s claim on a `sending` row to `until`; False if another worker holds it now."""
    result = session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == item_id,
            col(OutboxMessage.claimed_by) == worker_id,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(claimed_until=until)
    )
    return bool(result.rowcount)


def record_attempt(
    session: Session, item_id: int, worker_id: str, values: dict[str, Any], *, give_back_attempt: bool = False
) -> None:
    """Write an attempt's outcome (column values) to the row, only while `worker_id` still holds the
    claim: if its lease ran out and another worker took the row over, that worker's result counts.
    `give_back_attempt`: the attempt the claim counted does not count (a rate limit, a wait)."""
    if give_back_attempt:
        values = {**values, "attempts": OutboxMessage.attempts - 1}
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == item_id, col(OutboxMessage.claimed_by) == worker_id)
        .values(**values)
    )


def find(session: Session, item_id: int) -> OutboxMessage | None:
    """The outbox row with this id, or None."""
    return session.get(OutboxMessage, item_id)


# -- for the CLI and tests -------------------------------------------------------------------------------


def recent(session: Session, status: str | None, limit: int) -> list[OutboxMessage]:
    """The `limit` newest rows, of one status if given, newest first."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.exec(query))


def unfinished_count(session: Session) -> int:
    """How many rows are pending or being sent."""
    return int(
        session.exec(
            select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.status).in_(UNFINISHED))
        ).one()
    )


def requeue_failed(db: Database, ids: Sequence[int], *, actor: str) -> list[int]:
    """Send failed messages again (e.g. after the bot was invited to a private channel): those of `ids`
    that failed become pending with no attempts, each audited as `outbox.requeued` by `actor`, in one
    transaction. Returns their ids; ids of rows that did not fail, or do not exist, are left out."""
    with db.uow() as uow:
        rows = list(
            uow.session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.id).in_(list(ids)), OutboxMessage.status == OutboxStatus.FAILED
                )
            )
        )
        for row in rows:
            row.status = OutboxStatus.PENDING
            row.attempts = 0
            row.next_attempt_at = now_of(uow.session)
            row.last_error = None
            uow.session.add(row)
            audit.record(
                uow.session,
                actor=actor,
                action="outbox.requeued",
                subject_type="outbox",
                subject_id=row.id or 0,
            )
        uow.session.info[OUTBOX_QUEUED] = True
        uow.commit()
    return [row.id or 0 for row in rows]
