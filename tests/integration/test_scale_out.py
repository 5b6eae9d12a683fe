"""What lets several processes share one database: the heartbeat that keeps a live sender's claims, and
the record that gives each scheduled job's tick to one process. (Real processes killed and racing:
tests/e2e/test_scale_out.py.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.notify import outbox
from bot.notify.heartbeat import Heartbeat
from bot.notify.sender import Sender, sender_client
from bot.scheduler import Job, Scheduler
from bot.scheduler_ticks import TickClaims, forget_old_runs
from bot.services.context import Context
from bot.store import scheduler_runs
from bot.store.db import Database
from bot.store.tables import OutboxMessage
from bot.store.types import utcnow
from tests.integration.workspace import ALICE, TOKEN
from tests.support.history import Clock
from tests.support.outbox import raw, raw_composer
from tests.support.slack import SlackEmulator

LEASE = 10.0


def test_a_live_senders_heartbeat_keeps_its_claim_past_the_lease(db: Database, emu: SlackEmulator) -> None:
    with db.uow() as uow:
        outbox_id = outbox.post(uow.session, ALICE, raw({"text": "Access granted"})).id
        uow.commit()
    clock = Clock(utcnow())
    client = sender_client(emu.url, TOKEN, 30)
    live, other = (
        Sender(db, client, composer=raw_composer(), lease_seconds=LEASE, clock=clock) for _ in range(2)
    )
    heartbeat = Heartbeat(db, clock, [(OutboxMessage, live)])
    # Slack takes its time over the post: longer than the lease, on the clock.
    emu.hang_next("chat.postMessage", seconds=2, apply=True)
    try:
        assert live.dispatch() == 1
        emu.wait_for(lambda: emu.calls("chat.postMessage"), timeout=10)
        clock.advance(timedelta(seconds=LEASE + 1))
        assert heartbeat.beat() == 1
        # Another process looking for work leaves it alone: its holder is alive.
        assert other.claim(10) == []
        assert live.drain(timeout=30)
    finally:
        live.stop()
        other.stop()
    assert [m["text"] for m in emu.messages(ALICE)] == ["Access granted"]
    with db.read() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        assert (row.status, row.attempts, row.uncertain, row.claimed_by) == ("sent", 1, False, live.worker_id)
    assert heartbeat.beat() == 0  # nothing in flight: nothing renewed, nothing written


def test_each_tick_of_a_job_runs_in_one_process_of_several(ctx: Context) -> None:
    clock = Clock(utcnow())
    ctx.clock = clock
    ran: dict[str, int] = {}
    guard = threading.Lock()

    def counted(runner: str) -> int:
        with guard:
            ran[runner] = ran.get(runner, 0) + 1
        return 1

    schedulers = [
        Scheduler([Job("count", lambda r=runner: counted(r), 60.0)], claim=TickClaims(ctx, runner))
        for runner in ("replica-a", "replica-b", "worker")
    ]
    ticks = 5
    for _ in range(ticks):
        # Every process reaches the job's tick at once; then each looks again within the same tick.
        barrier = threading.Barrier(len(schedulers))
        threads = [threading.Thread(target=_run_at_once, args=(s, barrier)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for scheduler in schedulers:
            scheduler.jobs[0].due = 0.0
            assert scheduler.run_due() == {}
            scheduler.jobs[0].due = 0.0
        clock.advance(timedelta(seconds=60))

    assert sum(ran.values()) == ticks
    with ctx.read() as session:
        runs = scheduler_runs.runs(session, "count")
    assert len(runs) == ticks
    assert len({run.tick_at for run in runs}) == ticks
    assert sorted(ran) == sorted({run.runner for run in runs})
    assert {run.runner: sum(r.runner == run.runner for r in runs) for run in runs} == ran


def _run_at_once(scheduler: Scheduler, barrier: threading.Barrier) -> None:
    barrier.wait()
    scheduler.run_due()


def test_a_forced_run_and_a_processs_own_first_tick_run_whatever_the_record_says(ctx: Context) -> None:
    ctx.clock = Clock(utcnow())
    calls: list[str] = []
    first, second = (
        Scheduler(
            [Job("recheck", lambda n=name: calls.append(n) or 0, 60.0, own_first_tick=True)], TickClaims(ctx)
        )
        for name in ("a", "b")
    )
    first.run_due()
    second.run_due()  # its first run: the workflows this process loaded are applied
    assert calls == ["a", "b"]
    second.jobs[0].due = 0.0
    second.run_due()  # later runs take turns: this tick was recorded by the first process
    assert calls == ["a", "b"]
    assert second.run_due(force=True) == {"recheck": 0}
    assert calls == ["a", "b", "b"]


def test_jobs_due_together_are_claimed_together_each_tick_by_whoever_records_it_first(ctx: Context) -> None:
    clock = Clock(datetime(2026, 12, 3, 10, 15, 30, tzinfo=UTC))
    ctx.clock = clock
    minute, hour = Job("minutely", lambda: 0, 60.0), Job("hourly", lambda: 0, 3600.0)
    assert TickClaims(ctx, "replica-b")([hour]) == {"hourly"}
    claims = TickClaims(ctx, "replica-a")
    assert claims([minute, hour]) == {"minutely"}  # this hour's tick is replica-b's
    assert claims([minute, hour]) == set()  # both ticks recorded already
    clock.advance(timedelta(seconds=60))
    assert claims([minute, hour]) == {"minutely"}  # a new minute, the same hour
    with ctx.read() as session:
        # What a replica looks up before it writes: the ticks already recorded, by whoever.
        ticks = [("minutely", clock.now.replace(second=0)), ("hourly", clock.now.replace(minute=0, second=0))]
        assert scheduler_runs.recorded(session, ticks) == {"minutely", "hourly"}
        unrecorded = [("minutely", clock.now.replace(minute=17, second=0))]
        assert scheduler_runs.recorded(session, unrecorded) == set()
        recorded = [(f"{run.tick_at:%H:%M}", run.job, run.runner) for run in scheduler_runs.runs(session)]
    assert recorded == [
        ("10:00", "hourly", "replica-b"),
        ("10:15", "minutely", "replica-a"),
        ("10:16", "minutely", "replica-a"),
    ]


def test_records_of_runs_are_kept_for_a_day(ctx: Context) -> None:
    clock = Clock(utcnow())
    ctx.clock = clock
    claims = TickClaims(ctx, "replica-a")
    job = Job("count", lambda: 0, 60.0)
    assert claims([job]) == {"count"}
    clock.advance(timedelta(hours=23))
    assert claims([job]) == {"count"}
    clock.advance(timedelta(hours=2))
    assert forget_old_runs(ctx) == 1
    with ctx.read() as session:
        assert [run.started_at for run in scheduler_runs.runs(session)] == [clock.now - timedelta(hours=2)]
