"""Scale-out for real, on PostgreSQL: two `accessbot serve` replicas and one `accessbot worker` on one
database, each its own process, behind nothing but their own ports. Slack's requests are spread over the
replicas while approvals race; a broadcast survives a SIGKILL of a replica and the worker part-way;
scheduled jobs run each tick once between the three; processes started together on an empty database
take turns at migrating it. (SQLite serves one host: these tests run in CI's PostgreSQL pass.) And on
either database, a message held by a killed process is resumed by the next once its short lease runs
out."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, col, select

from bot.clock import FileClock
from bot.domain.directives import check_draft
from bot.services import directives
from bot.services.context import Context
from bot.store import migrate, scheduler_runs
from bot.store.db import Database
from bot.store.tables import AccessRequest, AuditEvent, OutboxMessage
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES, SIGNING_SECRET, BotServer, BotWorker, start_all
from tests.support.scale import MODEL, seed_holders
from tests.support.seed import prepare_database
from tests.support.slack import SlackDriver, SlackEmulator

MARIA, OWEN, OLGA, CARLA = "U0MARIA01", "U0OWEN001", "U0OLGA001", "U0CARLA01"
REQUESTERS = ("U0ALICE01", "U0BORIS01")  # Maria manages both
WHY = "Evaluating summarisation quality for the quarterly research report"
HOLDERS = 1_000
UNPACED = {"ACCESSBOT_SLACK_POSTS_PER_MINUTE": "60000"}
LEASE_SECONDS = 4  # the default ACCESSBOT_OUTBOX_LEASE on PostgreSQL

Cluster = Callable[..., list[BotServer]]


@pytest.fixture
def cluster(
    postgres_url: str, emulator: SlackEmulator, tmp_path: Path, clock: FileClock
) -> Iterator[Cluster]:
    """`cluster(replicas, workers)`: that many `serve` and `worker` processes on one PostgreSQL database
    and the test clock, started side by side; stopped and their logs printed after. The database is
    migrated with the test directory first, unless `prepare=False` (the test did it, or wants it empty)."""
    started: list[BotServer] = []

    def start(replicas: int = 2, workers: int = 1, *, prepare: bool = True) -> list[BotServer]:
        if prepare:
            prepare_database(postgres_url)
        processes: list[BotServer] = []
        for kind, count in ((BotServer, replicas), (BotWorker, workers)):
            for _ in range(count):
                log = tmp_path / f"{kind.command[0]}-{len(started) + len(processes)}.log"
                # No emulated workspace limit here: the senders need not pace posts to one.
                processes.append(
                    kind(postgres_url, emulator, log, ACCESSBOT_CLOCK_FILE=str(clock.path), **UNPACED)
                )
        started.extend(processes)
        return start_all(processes)

    yield start
    with ThreadPoolExecutor() as stopping:  # side by side: each stop waits for its process to finish
        list(stopping.map(BotServer.stop, started))
    for process in started:
        print(f"--- {process.log_path.name} ---\n{process.log()[-20000:]}")


def spread(emulator: SlackEmulator, replicas: list[BotServer]) -> SlackDriver:
    return SlackDriver.across([r.events_url for r in replicas], SIGNING_SECRET, emulator)


def pid_of(process: BotServer) -> int:
    assert process.process is not None
    return process.process.pid


def ran_in(runner: str, process: BotServer) -> bool:
    """Whether a worker or runner id (host-pid-random) is `process`'s."""
    return f"-{pid_of(process)}-" in runner


def read(url: str, query: Any) -> list[Any]:
    db = Database(url, pool=False)
    try:
        with db.read() as session:
            return list(session.exec(query))
    finally:
        db.dispose()


def posts_by_outbox_id(emulator: SlackEmulator) -> Counter[int]:
    """How many messages in Slack carry each outbox id in their metadata (the sender tags every post)."""
    return Counter(
        int(message["metadata"]["event_payload"]["outbox_id"])
        for message in emulator.find_messages(lambda m: bool((m.get("metadata") or {}).get("event_payload")))
    )


def assert_each_notice_once(url: str, emulator: SlackEmulator) -> None:
    """Nothing lost, nothing twice: every outbox row was delivered, and every posted row is in Slack once."""
    rows = read(url, select(OutboxMessage))
    assert Counter(row.status for row in rows) == {"sent": len(rows)}
    posted = posts_by_outbox_id(emulator)
    assert [n for n in posted.values() if n != 1] == []
    assert {row.id for row in rows if row.kind == "post"} <= set(posted)


def approval_message(emulator: SlackEmulator, user: str, request_id: int) -> dict[str, Any] | None:
    """The message asking `user` to decide request `request_id`, while it still has its buttons."""
    for message in reversed(emulator.messages(user)):
        blocks = json.dumps(message.get("blocks"))
        if "approval_approve" in blocks and f'"{request_id}:' in blocks:
            return message
    return None


def asked(emulator: SlackEmulator, user: str, request_id: int) -> dict[str, Any]:
    found = emulator.wait_for(lambda: approval_message(emulator, user, request_id), timeout=30)
    assert isinstance(found, dict)
    return found


def at_once(*actions: Callable[[], Any]) -> None:
    """Run `actions` in threads released at the same moment; re-raise the first error."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            action()
        except BaseException as error:  # handed to the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_replicas_share_slack_requests_racing_approvals_and_each_scheduled_tick(
    cluster: Cluster, emulator: SlackEmulator, postgres_url: str
) -> None:
    replicas = cluster(replicas=2, workers=1)
    *servers, worker = replicas
    slack = spread(emulator, servers)

    filed = [slack.command(user, f"request {MODEL} {WHY}") for user in REQUESTERS]
    request_ids = [int(re.search(r"R(\d+) filed", reply.body).group(1)) for reply in filed]  # type: ignore[union-attr]
    for request_id in request_ids:
        slack.press_in_message(
            MARIA, "approval_approve", asked(emulator, MARIA, request_id), f"{request_id}:"
        )
    # The model owners' step: both owners press Approve at the same moment, each on another replica.
    for turn, request_id in enumerate(request_ids):
        owen, olga = asked(emulator, OWEN, request_id), asked(emulator, OLGA, request_id)
        value = f"{request_id}:"
        at_once(
            partial(slack.on(turn % 2).press_in_message, OWEN, "approval_approve", owen, value),
            partial(slack.on((turn + 1) % 2).press_in_message, OLGA, "approval_approve", olga, value),
        )
    for request_id in request_ids:
        slack.press_in_message(
            CARLA, "approval_approve", asked(emulator, CARLA, request_id), f"{request_id}:"
        )
    emulator.wait_for(
        lambda: {r.status for r in read(postgres_url, select(AccessRequest))} == {"approved"}, timeout=30
    )

    # Both replicas served requests; each step of each request was decided once.
    assert set(slack.served) == {s.events_url for s in servers}
    decisions = [
        (e.subject_id, e.after["step"])
        for e in read(postgres_url, select(AuditEvent).where(AuditEvent.action == "decision.recorded"))
    ]
    assert sorted(decisions) == sorted((str(r), step) for r in request_ids for step in (1, 2, 3))
    # Each approver was asked once per request, and nothing was lost or sent twice.
    for user in (OWEN, OLGA, CARLA):
        emulator.wait_for(lambda u=user: len(emulator.messages(u)) == len(request_ids), timeout=30)
    emulator.wait_for(
        lambda: {r.status for r in read(postgres_url, select(OutboxMessage))} == {"sent"}, timeout=30
    )
    assert_each_notice_once(postgres_url, emulator)

    # Scheduled jobs: every job ran, each of its ticks in one of the three processes (which one is
    # whichever reached the tick first; tests/integration/test_scale_out.py counts the runs themselves).
    runs = read(postgres_url, select(scheduler_runs.SchedulerRun))
    assert Counter((run.job, run.tick_at) for run in runs).most_common(1)[0][1] == 1
    assert {run.job for run in runs} >= {"expire grants", "seal audit events", "re-check entitlements"}
    assert all(any(ran_in(run.runner, process) for process in replicas) for run in runs)
    assert all("Traceback" not in process.log() for process in replicas)
    assert worker.process is not None and worker.process.poll() is None


def test_a_broadcast_survives_a_replica_and_the_worker_killed_part_way(
    cluster: Cluster, emulator: SlackEmulator, postgres_url: str, clock: FileClock
) -> None:
    prepare_database(postgres_url)
    db = Database(postgres_url, clock=clock)
    try:
        seed_holders(db, HOLDERS, clock(), listed=True)
    finally:
        db.dispose()
    holders = [f"U{n:09d}" for n in range(HOLDERS)]
    for user in holders:
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@example.com")
    survivor, doomed, worker = cluster(replicas=2, workers=1, prepare=False)
    # Slack answers each call a little late, so that each process has posts in flight when it dies.
    emulator.set_latency(0.02)

    ctx = Context(
        db=Database(postgres_url, clock=clock), catalog=load_catalog(FIXTURES / "workflows"), clock=clock
    )
    try:
        draft = check_draft(
            title="Withdrawal", authority="Board", reference="BR-9", models=[MODEL],
            notice="Mythos 5 is withdrawn for everyone.", known_models=set(ctx.catalog.models),
            population="everyone", action="suspend", effective_at=None, now=clock(),
        )  # fmt: skip
        directives.issue(ctx, actor="cli:test", draft=draft)
    finally:
        ctx.db.dispose()

    def delivered() -> int:
        return sum(1 for user in holders if emulator.messages(user))

    # Polled gently: the emulator answering the processes shares this process.
    emulator.wait_for(lambda: delivered() >= HOLDERS // 4, timeout=60, interval=0.25)
    doomed.kill()
    worker.kill()
    assert delivered() < HOLDERS
    orphaned = {
        row.id: row.claimed_by
        for row in read(postgres_url, select(OutboxMessage).where(OutboxMessage.status == "sending"))
        if row.claimed_by and (ran_in(row.claimed_by, doomed) or ran_in(row.claimed_by, worker))
    }
    assert orphaned, "neither killed process had a notice in flight"

    # The killed processes beat no more: once their leases run out, the survivor takes their notices over.
    clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    emulator.wait_for(lambda: delivered() == HOLDERS, timeout=120, interval=0.25)
    emulator.wait_for(
        lambda: not read(postgres_url, select(OutboxMessage.id).where(col(OutboxMessage.status) != "sent")),
        timeout=60,
    )
    assert [user for user in holders if len(emulator.messages(user)) != 1] == []
    assert len(emulator.messages("C0MYTHOS5")) == 1
    assert_each_notice_once(postgres_url, emulator)
    taken_over = read(postgres_url, select(OutboxMessage).where(col(OutboxMessage.id).in_(list(orphaned))))
    assert all(ran_in(row.claimed_by or "", survivor) and row.attempts >= 2 for row in taken_over)
    assert "Traceback" not in survivor.log()


def test_processes_started_together_on_an_empty_database_take_turns_migrating_it(
    cluster: Cluster, postgres_url: str
) -> None:
    # The worker never migrates: it waits until a server has.
    processes = cluster(replicas=3, workers=1, prepare=False)
    db = Database(postgres_url, pool=False)
    try:
        assert migrate.current_revision(db) == migrate.head_revision()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert list(compare_metadata(context, SQLModel.metadata)) == []
    finally:
        db.dispose()
    for process in processes:
        assert process.process is not None and process.process.poll() is None
        assert "Traceback" not in process.log()


def test_a_message_held_by_a_killed_process_is_sent_once_by_the_next_when_its_short_lease_runs_out(
    start_process: Callable[..., BotServer],
    emulator: SlackEmulator,
    database_url: str,
    clock: FileClock,
    tmp_path: Path,
) -> None:
    first = start_process()  # the default lease
    # Slack takes each post at once, but its answer never reaches the process before it dies.
    emulator.hang_next("chat.postMessage", seconds=60, count=10, apply=True)
    first.driver(emulator).command(REQUESTERS[0], f"request lumen-3 {WHY}")
    emulator.wait_for(lambda: emulator.messages(MARIA), timeout=30)
    first.kill()
    emulator.clear_faults()
    held = read(database_url, select(OutboxMessage).where(OutboxMessage.status == "sending"))
    assert MARIA in {row.address for row in held}

    resumed = BotWorker(database_url, emulator, tmp_path / "worker.log", ACCESSBOT_CLOCK_FILE=str(clock.path))
    try:
        resumed.start()
        clock.advance(timedelta(seconds=LEASE_SECONDS + 1))  # no heartbeat renews the dead process's lease
        emulator.wait_for(
            lambda: {r.status for r in read(database_url, select(OutboxMessage))} == {"sent"}, timeout=30
        )
    finally:
        resumed.stop()
    # Each held post was found in its conversation's history under its outbox id: marked sent, not
    # posted again.
    assert len(emulator.messages(MARIA)) == 1
    assert_each_notice_once(database_url, emulator)
    taken_over = read(
        database_url, select(OutboxMessage).where(col(OutboxMessage.id).in_([r.id for r in held]))
    )
    assert all(ran_in(row.claimed_by or "", resumed) and row.attempts == 2 for row in taken_over)
    assert "Traceback" not in resumed.log()
