"""The outbox table (see bot/notify/): bulk queueing, claiming due rows with a lease, recording each
attempt's outcome under that lease, and the lists and counts the CLI and tests read.

Messages are queued in the service's own transaction through bot/notify/outbox.py; everything here
that changes a row the sender holds does so only while that sender's claim (`claimed_by`) is on it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, bindparam, insert, literal
from sqlmodel import Session, col, select

from bot.domain.status import OutboxStatus
from bot.store import audit, claims
from bot.store.db import OUTBOX_QUEUED, Database, now_of
from bot.store.tables import OutboxMessage
from bot.store.types import UTCDateTime

UNFINISHED = claims.UNFINISHED

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


# The claim's conditions, each built once: the sender claims twice per dispatch, many times a second
# during a broadcast, and building its statement took more Python than running it.
_GROUPED = col(OutboxMessage.group_key).is_not(None)
_UNGROUPED = col(OutboxMessage.group_key).is_(None)
_SKIP_KINDS = col(OutboxMessage.kind).not_in(bindparam("skip_kinds", expanding=True))
_SKIP_LANES = col(OutboxMessage.lane).not_in(bindparam("skip_lanes", expanding=True))
_SKIP_IDS = col(OutboxMessage.id).not_in(bindparam("skip_ids", expanding=True))


@lru_cache(maxsize=16)
def _due(broadcast: bool, kinds: bool, lanes: bool, ids: bool) -> Any:
    """The claim's statement for this shape of claim (bot/store/claims.py due_query)."""
    where = [_GROUPED if broadcast else _UNGROUPED]
    where += [
        skip for skip, wanted in ((_SKIP_KINDS, kinds), (_SKIP_LANES, lanes), (_SKIP_IDS, ids)) if wanted
    ]
    return claims.due_query(OutboxMessage, *where)


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
    """Claim up to `limit` rows that can go now, oldest first, for `worker_id` until `now + lease`
    (bot/store/claims.py: due rows, lanes in order, FOR UPDATE SKIP LOCKED; the caller commits).

    A row taken over from a worker whose lease ran out becomes `uncertain`, as it may have been sent.
    `broadcast` picks rows with a group key (directive announcements), otherwise those without.
    """
    query = _due(broadcast, bool(skip_kinds), bool(skip_lanes), bool(skip_ids))
    params = {"skip_kinds": list(skip_kinds), "skip_lanes": list(skip_lanes), "skip_ids": list(skip_ids)}
    claimed = claims.claim_due(
        session, query, now=now, limit=limit, worker_id=worker_id, lease=lease, params=params
    )
    for item, taken_over in claimed:
        if taken_over:
            item.uncertain = True
    return [item for item, _ in claimed]


def renew_claim(session: Session, item_id: int, worker_id: str, until: datetime) -> bool:
    """Extend `worker_id`'s claim on a `sending` row to `until`; False if another worker holds it now."""
    return claims.renew_claim(session, OutboxMessage, item_id, worker_id, until)


def record_attempt(
    session: Session, item_id: int, worker_id: str, values: dict[str, Any], *, give_back_attempt: bool = False
) -> None:
    """Write an attempt's outcome to the row while `worker_id` holds its claim (see claims.py)."""
    claims.record_attempt(
        session, OutboxMessage, item_id, worker_id, values, give_back_attempt=give_back_attempt
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
    return claims.unfinished_count(session, OutboxMessage)


def requeue_failed(db: Database, ids: Sequence[int], *, actor: str) -> list[int]:
    """Send failed messages again (e.g. after the bot was invited to a private channel): those of `ids`
    that failed become pending with no attempts, each audited as `outbox.requeued` by `actor`, in one
    transaction. Returns their ids; ids of rows that did not fail, or do not exist, are left out."""
    with db.uow() as uow:
        rows = list(
            uow.session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.id).in_(list(ids)), OutboxMessage.status == OutboxStatus.FAILED)
                # Two operators requeueing at once: the second waits, then finds the row pending.
                .with_for_update()
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
