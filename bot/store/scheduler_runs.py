"""Which process runs each scheduled job's tick (the table is bot/store/tables/scheduler.py).

A job's ticks are the intervals of the clock that start at whole multiples of its interval since the
epoch, so every replica configured alike names the same tick the same way. The first process to record
a tick runs it; a process that finds it recorded skips it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.store.db import dialect_insert
from bot.store.tables import SchedulerRun


def tick_of(now: datetime, interval: float) -> datetime:
    """The start of the tick of length `interval` (seconds, > 0) that `now` (aware) falls in."""
    return datetime.fromtimestamp(math.floor(now.timestamp() / interval) * interval, UTC)


def recorded(session: Session, job: str, tick_at: datetime) -> bool:
    """Whether a process has recorded `job`'s tick starting `tick_at`."""
    query = select(SchedulerRun.runner).where(SchedulerRun.job == job, SchedulerRun.tick_at == tick_at)
    return session.exec(query).first() is not None


def claim_tick(session: Session, job: str, tick_at: datetime, runner: str, now: datetime) -> bool:
    """Record that `runner` runs `job`'s tick starting `tick_at`; False when another process recorded
    it first (the insert does nothing then). The caller commits."""
    values = {"job": job, "tick_at": tick_at, "runner": runner, "started_at": now}
    insert = dialect_insert(session)(SchedulerRun).values(**values).on_conflict_do_nothing()
    # RETURNING says whether the row went in: an INSERT's row count is not reported through psycopg here.
    return session.exec(insert.returning(col(SchedulerRun.runner))).first() is not None  # type: ignore[call-overload]


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
