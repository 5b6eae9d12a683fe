"""Which process runs each scheduled job's tick (the table is bot/store/tables/scheduler.py).

A job's ticks are the intervals of the clock that start at whole multiples of its interval since the
epoch, so every replica configured alike names the same tick the same way. The first process to record
a tick runs it; a process that finds it recorded skips it.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import delete, tuple_
from sqlmodel import Session, col, select

from bot.store.db import dialect_insert
from bot.store.tables import SchedulerRun


def tick_of(now: datetime, interval: float) -> datetime:
    """The start of the tick of length `interval` (seconds, > 0) that `now` (aware) falls in."""
    return datetime.fromtimestamp(math.floor(now.timestamp() / interval) * interval, UTC)


def recorded(session: Session, ticks: Collection[tuple[str, datetime]]) -> set[str]:
    """The jobs among `ticks` (job name, start of its tick) whose tick a process has recorded."""
    if not ticks:
        return set()
    query = select(SchedulerRun.job).where(
        tuple_(col(SchedulerRun.job), col(SchedulerRun.tick_at)).in_(list(ticks))
    )
    return set(session.exec(query))


def claim_ticks(
    session: Session, ticks: Collection[tuple[str, datetime]], runner: str, now: datetime
) -> set[str]:
    """Record that `runner` runs each of `ticks` (job name, start of its tick), in one statement; the
    jobs whose record went in (another process recorded the others first: the insert skips them). The
    caller commits."""
    if not ticks:
        return set()
    rows = [{"job": job, "tick_at": tick_at, "runner": runner, "started_at": now} for job, tick_at in ticks]
    insert = dialect_insert(session)(SchedulerRun).values(rows).on_conflict_do_nothing()
    # RETURNING says which rows went in: an INSERT's row count is not reported through psycopg here.
    return set(session.exec(insert.returning(col(SchedulerRun.job))).scalars())  # type: ignore[call-overload]


def forget_runs_before(session: Session, before: datetime) -> int:
    """Delete the records of runs started before `before`; how many. The caller commits."""
    result = session.exec(  # type: ignore[call-overload]
        delete(SchedulerRun).where(col(SchedulerRun.started_at) < before)
    )
    return int(result.rowcount or 0)


def runs(session: Session, job: str | None = None) -> list[SchedulerRun]:
    """Recorded runs, of one job if given, oldest tick first."""
    query = select(SchedulerRun).order_by(col(SchedulerRun.tick_at), col(SchedulerRun.job))
    if job is not None:
        query = query.where(SchedulerRun.job == job)
    return list(session.exec(query))
