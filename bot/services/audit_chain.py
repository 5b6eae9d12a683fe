"""The tamper-evident audit trail: sealing events into the hash chain, checkpoints of its head (daily,
and on demand) posted to the compliance channel, and verifying the chain.

Sealing runs in short transactions of its own, never inside the changes that write the events (see
bot/store/audit_chain.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from bot.domain.audit_chain import ChainWalk, Finding, first_dated_ahead
from bot.notify import outbox
from bot.present.audit import checkpoint_message
from bot.services.context import Context
from bot.store import audit
from bot.store import audit_chain as chain
from bot.store.db import Database, now_of, one_snapshot

# Batches one run of the scheduler's sealing job seals at most (then it yields to the other jobs).
SEAL_JOB_BATCHES = 50


def seal(db: Database | Context, *, max_batches: int | None = None) -> int:
    """Seal committed unsealed events into the chain, one batch (bot/store/audit_chain.SEAL_BATCH) per
    transaction, until none is left or `max_batches` were sealed; returns how many events were sealed.
    Safe beside other sealers: they take turns on the chain's head."""
    sealed = batches = 0
    while max_batches is None or batches < max_batches:
        with db.read() as session:
            if not chain.has_unsealed(session):
                break
        with db.uow() as uow:
            count = chain.seal_batch(uow.session)
            uow.commit()
        if not count:
            break
        sealed += count
        batches += 1
    return sealed


def seal_job(ctx: Context) -> int:
    """The scheduler's sealing job: a bounded run of seal()."""
    return seal(ctx, max_batches=SEAL_JOB_BATCHES)


@dataclass(frozen=True)
class CheckpointResult:
    """A checkpoint recorded: its id, the head it records (seq, which is also the number of events, and
    hash), when, and the channel it was queued for (None: no compliance_channel is configured)."""

    id: int
    seq: int
    hash: str
    at: datetime
    channel: str | None


def checkpoint(ctx: Context, *, actor: str) -> CheckpointResult:
    """Seal every event, then, in one transaction under the chain's lock, record a checkpoint of the
    head, audit it (`audit.checkpoint`, the next event after the head) and queue its message to the
    policy's compliance_channel when one is set."""
    result = _checkpoint(ctx, actor, once_a_day=False)
    if result is None:  # only a once-a-day checkpoint is ever skipped
        raise RuntimeError("a checkpoint on demand was not recorded")
    return result


def daily_checkpoint(ctx: Context) -> int:
    """The scheduler's daily job: a checkpoint (actor `system`) once per UTC day, by the first run of
    the day on any replica; returns 1 when it recorded one, else 0."""
    with ctx.read() as session:
        if chain.checkpointed_since(session, _start_of_day(ctx.clock())):
            return 0
    return 0 if _checkpoint(ctx, audit.SYSTEM, once_a_day=True) is None else 1


def _checkpoint(ctx: Context, actor: str, *, once_a_day: bool) -> CheckpointResult | None:
    seal(ctx)
    channel = ctx.catalog.policy.compliance_channel
    with ctx.uow() as uow:
        session = uow.session
        head = chain.lock_head(session)
        now = ctx.clock()
        # Under the lock: replicas running the daily job at once record one checkpoint between them.
        if once_a_day and chain.checkpointed_since(session, _start_of_day(now)):
            return None
        row = chain.add_checkpoint(session, head.seq, head.hash, actor, channel, now)
        checkpoint_id = row.id or 0
        audit.record(
            session, actor=actor, action="audit.checkpoint", subject_type="audit", subject_id=checkpoint_id,
            detail={"seq": head.seq, "hash": head.hash, "channel": channel},
        )  # fmt: skip
        if channel:
            outbox.post(session, channel, checkpoint_message(checkpoint_id, head.seq, head.hash, now, actor))
        uow.commit()
    return CheckpointResult(checkpoint_id, head.seq, head.hash, now, channel)


def _start_of_day(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(), tzinfo=moment.tzinfo)


@dataclass(frozen=True)
class Verdict:
    """What verify found: the number of events in the chain and its head hash (as far as it held), how
    many checkpoints it was checked against, how many events are not sealed yet, and the first problem
    (None: the chain is intact)."""

    events: int
    head_hash: str
    checkpoints: int
    unsealed: int
    finding: Finding | None


def verify(db: Database) -> Verdict:
    """Walk the whole chain in seq order (streamed in batches) and check every event's link and hash,
    every checkpoint, that the chain reaches the last seq sealed, that no unsealed event is dated
    well before the chain's newest (inserted out of order), and that no event is dated ahead of now
    (dated_ahead in bot/domain/audit_chain.py). Reads only."""
    with db.read() as session:
        # One snapshot: an event sealed while this reads is then either among the sealed or the unsealed.
        one_snapshot(session)
        # The head and the checkpoints first: every event they count is then in the walk below.
        recorded_head, _ = chain.head(session)
        checkpoints = chain.checkpoints(session)
        now = now_of(session)
        walk = ChainWalk(checkpoints, dated_after=chain.chain_start(session), now=now)
        for event in chain.sealed_events(session):
            if walk.feed(event) is not None:
                break
        walk.finish(recorded_head)
        waiting, oldest = chain.unsealed(session)
        ahead = first_dated_ahead(chain.unsealed_newest_first(session), now) if waiting else None
    if oldest is not None:
        walk.late_insertion(*oldest)
    walk.future_insertion(ahead)
    return Verdict(walk.count, walk.head_hash, len(checkpoints), waiting, walk.finding)
