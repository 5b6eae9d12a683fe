"""The audit chain's SQL: sealing events into the chain, reading it back for `audit verify`, and the
checkpoints.

Events are written unsealed, in the transactions of the changes they record (thousands at a time by
bot/store/audit.record_rows), so that hashing never slows a change down. The sealer then gives each
committed unsealed event, in id order, the next place in the chain under a lock on the chain's head row
(SELECT … FOR UPDATE on PostgreSQL; SQLite runs one writer at a time already): several replicas sealing
at once take turns, and an event whose transaction commits late, with a lower id, simply gets a later seq.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.domain.audit_chain import GENESIS, HASHED, Checkpoint, event_hash, first_dated_ahead
from bot.store.db import dialect_insert, now_of
from bot.store.tables import AuditChain, AuditCheckpoint, AuditEvent

log = logging.getLogger(__name__)

HEAD_ID = 1
CHAIN_STARTED = "audit.chain_started"  # the event migration 0011 records (migrations/versions/0011_…)
# Events sealed per statement: big enough that 100,000 events take a few dozen round trips, small enough
# that a batch's rows and its UPDATE stay a few megabytes.
SEAL_BATCH = 2000
READ_BATCH = 2000

_COLUMNS = [getattr(AuditEvent, name) for name in HASHED if name not in ("seq", "prev_hash")]
_CHAIN_COLUMNS = [getattr(AuditEvent, name) for name in (*HASHED, "hash")]


def lock_head(session: Session) -> AuditChain:
    """The chain's head row, locked until the transaction ends (created, at the genesis, if missing:
    a database built without migrations)."""
    session.exec(  # type: ignore[call-overload]
        dialect_insert(session)(AuditChain)
        .values(id=HEAD_ID, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    head = session.exec(
        select(AuditChain)
        .where(AuditChain.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return head


def has_unsealed(session: Session) -> bool:
    """Whether any committed event is waiting to be sealed (a cheap look before taking the lock)."""
    waiting = select(AuditEvent.id).where(col(AuditEvent.seq).is_(None)).limit(1)
    return session.exec(waiting).first() is not None


def seal_batch(session: Session, limit: int = SEAL_BATCH) -> int:
    """Seal up to `limit` unsealed events, oldest id first, after the chain's head; returns how many.
    Takes the head's lock: call in a transaction of its own and commit it soon."""
    head = lock_head(session)
    # Read after the lock: on PostgreSQL each statement sees what committed before it, so events another
    # sealer sealed while this one waited are not sealed twice.
    # One more than the batch: each event is compared with those written after it.
    rows = session.exec(  # type: ignore[call-overload]
        select(*_COLUMNS).where(col(AuditEvent.seq).is_(None)).order_by(col(AuditEvent.id)).limit(limit + 1)
    ).all()
    if not rows:
        return 0
    seq, previous = head.seq, head.hash
    sealed: list[dict[str, Any]] = []
    # Dated ahead of the clock, or of an event written after it: no transaction of ours wrote it. Sealed,
    # it would make every honest event after it look inserted out of order; left unsealed (with those
    # after it), `audit verify` names it.
    ahead = first_dated_ahead(((row.id, row.at) for row in reversed(rows)), now_of(session))
    for row in rows[:limit]:
        if ahead is not None and row.id == ahead[0]:
            log.warning("audit event %s is dated ahead of its time; sealing stops before it", row.id)
            break
        seq += 1
        event = {**row._mapping, "seq": seq, "prev_hash": previous}
        previous = event_hash(event)
        sealed.append({"id": row.id, "seq": seq, "prev_hash": event["prev_hash"], "hash": previous})
    if not sealed:
        return 0
    # One executemany UPDATE by primary key for the whole batch.
    session.exec(update(AuditEvent), params=sealed)  # type: ignore[call-overload]
    head.seq, head.hash = seq, previous
    session.add(head)
    session.flush()
    return len(sealed)


def head(session: Session) -> tuple[int, str]:
    """The last seq sealed and its hash, as the head row records them ((0, GENESIS) before any)."""
    found = session.get(AuditChain, HEAD_ID)
    return (found.seq, found.hash) if found is not None else (0, GENESIS)


def checkpoints(session: Session) -> list[Checkpoint]:
    """Every recorded checkpoint, oldest first (one a day: a few thousand after years)."""
    rows = session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id))).all()
    return [Checkpoint(id=r.id or 0, seq=r.seq, hash=r.hash, at=r.at) for r in rows]


def checkpointed_since(session: Session, start: datetime) -> bool:
    """Whether a checkpoint was recorded at or after `start`."""
    return (
        session.exec(select(AuditCheckpoint.id).where(col(AuditCheckpoint.at) >= start).limit(1)).first()
        is not None
    )


def add_checkpoint(
    session: Session, seq: int, hash_: str, actor: str, channel: str | None, at: datetime
) -> AuditCheckpoint:
    """Record a checkpoint of the head (seq, hash_); flushed, so its id is known."""
    row = AuditCheckpoint(seq=seq, hash=hash_, actor=actor, channel=channel, at=at)
    session.add(row)
    session.flush()
    return row


def chain_start(session: Session) -> int:
    """The seq of the newest `audit.chain_started` event (the last one its migration sealed); 0 if none."""
    started = select(func.max(AuditEvent.seq)).where(AuditEvent.action == CHAIN_STARTED)
    return session.exec(started).one() or 0


def sealed_events(session: Session) -> Iterator[dict[str, Any]]:
    """Every sealed event in seq order, as a mapping of the HASHED columns and `hash`, read in batches
    (a server-side cursor on PostgreSQL), so memory stays constant however long the chain."""
    result = session.exec(  # type: ignore[call-overload]
        select(*_CHAIN_COLUMNS)
        .where(col(AuditEvent.seq).is_not(None))
        .order_by(col(AuditEvent.seq))
        .execution_options(yield_per=READ_BATCH)
    )
    for row in result:
        yield dict(row._mapping)


def unsealed(session: Session) -> tuple[int, tuple[int, datetime] | None]:
    """How many events are not sealed yet, and the oldest-dated of them (id, at), if any."""
    count = session.exec(select(func.count()).where(col(AuditEvent.seq).is_(None))).one()
    if not count:
        return 0, None
    oldest = session.exec(
        select(AuditEvent.id, AuditEvent.at)
        .where(col(AuditEvent.seq).is_(None))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
        .limit(1)
    ).one()
    return count, (oldest[0], oldest[1])


def unsealed_newest_first(session: Session) -> Iterator[tuple[int, datetime]]:
    """(id, at) of every event not sealed yet, newest id first, streamed (first_dated_ahead reads them)."""
    rows = session.exec(
        select(AuditEvent.id, AuditEvent.at)
        .where(col(AuditEvent.seq).is_(None))
        .order_by(col(AuditEvent.id).desc())
        .execution_options(yield_per=1000)
    )
    yield from ((event_id, at) for event_id, at in rows)
