"""The scheduler's record of which process ran each job's tick, shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


class SchedulerRun(SQLModel, table=True):
    """One run of a scheduled job: the tick it ran for (the start of its interval on the clock) and the
    process that ran it. The primary key is what makes a tick run once across replicas: the process
    whose row goes in runs the job, the others skip that tick."""

    __tablename__ = "scheduler_run"

    job: str = Field(primary_key=True, max_length=64)
    tick_at: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    runner: str = Field(max_length=80)
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
