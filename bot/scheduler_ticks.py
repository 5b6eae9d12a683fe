"""Each scheduled job's tick runs once across replicas: before running a job, a process records the
job's current tick (bot/store/scheduler_runs.py); the process whose record goes in runs it, the others
skip that tick and try the next. The records say which process ran which tick, and are kept for a day."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.services.context import Context
from bot.store import scheduler_runs

if TYPE_CHECKING:
    from bot.scheduler import Job

KEEP_RUNS = timedelta(days=1)


class TickClaims:
    """`claims(jobs)`: the names of those of `jobs` whose current tick (on `ctx`'s clock) this process
    runs. Replicas must run with the same ACCESSBOT_SCHEDULER_INTERVAL, as a job's ticks are cut from its
    interval."""

    def __init__(self, ctx: Context, runner: str | None = None):
        self.ctx = ctx
        self.runner = runner or f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def __call__(self, jobs: Sequence[Job]) -> set[str]:
        now = self.ctx.clock()
        ticks = {job.name: scheduler_runs.tick_of(now, job.interval) for job in jobs}
        # Most claims are lost to a replica that got there first: looking before writing makes a lost
        # claim cost a read, not a write (on SQLite, no turn at the database's single write lock). The
        # jobs due together are claimed together: one read and at most one write per round of ticks.
        with self.ctx.read() as session:
            taken = scheduler_runs.recorded(session, ticks.items())
        open_ticks = [(name, tick_at) for name, tick_at in ticks.items() if name not in taken]
        if not open_ticks:
            return set()
        with self.ctx.uow() as uow:
            mine = scheduler_runs.claim_ticks(uow.session, open_ticks, self.runner, now)
            uow.commit()
        return mine


def forget_old_runs(ctx: Context) -> int:
    """Delete the records of runs started more than KEEP_RUNS ago; how many."""
    with ctx.uow() as uow:
        forgotten = scheduler_runs.forget_runs_before(uow.session, ctx.clock() - KEEP_RUNS)
        uow.commit()
    return forgotten
