"""Scale-out: `/access status` at 50 concurrent commands answered by one `accessbot serve` replica, then
spread in turn over two replicas on the same database (and the same machine), as a load balancer
would; throughput (answered commands per second), p50 and p99 of each, and the ratio of the two
throughputs. And the resume: two replicas deliver a directive's notices, one is killed (SIGKILL) with
notices in flight, and the time from the kill until the other has delivered every one it left, on real
time with the default lease."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from bot.config import load_settings
from bot.services import directives
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import OutboxMessage
from bot.workflows import load_catalog
from tests.support.bot_server import BOT_TOKEN, FIXTURES, SIGNING_SECRET, BotServer, start_all
from tests.support.scale import frontier_order
from tests.support.seed import add_directory_users, holders_in_slack, prepare_database
from tests.support.slack import SlackDriver, SlackEmulator

USERS = ["U0ALICE01", "U0BORIS01", "U0MARIA01", "U0EVE0001"]
CONCURRENCY = 50


@dataclass(frozen=True)
class Throughput:
    """`count` commands answered in `seconds` of wall time; `latencies` of each, in seconds."""

    count: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        """Commands answered per second of wall time."""
        return self.count / self.seconds


def _load(driver: SlackDriver, count: int) -> Throughput:
    """`count` `/access status` commands sent by CONCURRENCY threads at once, each answered 200."""

    def one(n: int) -> float:
        reply = driver.command(USERS[n % len(USERS)], "status", final=False)
        assert reply.status == 200, reply.body[:200]
        return reply.elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        latencies = list(pool.map(one, range(count)))
    return Throughput(count, time.perf_counter() - started, latencies)


def bench_scaleout(url: str, folder: Path, count: int) -> tuple[Throughput, Throughput]:
    """(one replica, two replicas): `count` commands at CONCURRENCY concurrent against each setup."""
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        add_directory_users(emulator)
        prepare_database(url)
        first, second = (BotServer(url, emulator, folder / f"scaleout-{n}.log") for n in (1, 2))
        start_all([first])
        try:
            alone = SlackDriver(first.events_url, SIGNING_SECRET, emulator)
            _load(alone, CONCURRENCY)  # warm the pools
            one = _load(alone, count)
            start_all([second])
            pair = SlackDriver.across([first.events_url, second.events_url], SIGNING_SECRET, emulator)
            _load(pair, CONCURRENCY)
            two = _load(pair, count)
        finally:
            for server in (first, second):
                server.stop()
    return one, two


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def describe(label: str, one: Throughput, two: Throughput) -> str:
    """The benchmark's line for one database."""
    parts = []
    for name, run in (("one replica", one), ("two replicas", two)):
        p50, p99 = (_percentile(run.latencies, q) * 1000 for q in (0.5, 0.99))
        parts.append(f"{name} {run.per_second:.0f} commands/s (p50 {p50:.0f} ms, p99 {p99:.0f} ms)")
    return (
        f"scale-out, /access status at {CONCURRENCY} concurrent, {one.count} commands, on {label}: "
        f"{'; '.join(parts)}; throughput ratio two/one {two.per_second / one.per_second:.2f}"
    )


def bench_resume(url: str, folder: Path, notices: int) -> tuple[int, float]:
    """(notices the killed replica held, seconds from its SIGKILL until the survivor delivered them)."""
    recipients = [f"U0RESUME{n:04d}" for n in range(notices)]
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        holders_in_slack(emulator, url, recipients, "mythos-5")
        # The emulator sets no post limit: the senders need not pace posts to one.
        fast = {"ACCESSBOT_SLACK_POSTS_PER_MINUTE": "60000"}
        doomed, survivor = start_all(
            [BotServer(url, emulator, folder / f"resume-{n}.log", **fast) for n in (1, 2)]
        )
        db = Database(url)
        try:
            emulator.set_latency(0.05)  # posts in flight on both replicas at any moment
            ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"))
            directives.issue(ctx, actor="cli:bench", draft=frontier_order(ctx, ctx.clock()))
            emulator.wait_for(lambda: len(emulator.calls("chat.postMessage")) >= notices // 4, timeout=120)
            assert doomed.process is not None
            mark = f"-{doomed.process.pid}-"
            doomed.kill()
            killed_at = time.monotonic()
            with db.read() as session:
                rows = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending"))
                held = [row.id for row in rows if mark in (row.claimed_by or "")]

            def resumed() -> bool:
                with db.read() as session:
                    found = session.exec(select(OutboxMessage.status).where(col(OutboxMessage.id).in_(held)))
                    return set(found) == {"sent"}

            emulator.wait_for(resumed, timeout=120, interval=0.05)
            return len(held), time.monotonic() - killed_at
        finally:
            db.dispose()
            survivor.stop()


def describe_resume(label: str, url: str, held: int, seconds: float) -> str:
    """The resume benchmark's line for one database."""
    lease = load_settings({"DATABASE_URL": url}, env_file=None).outbox_lease_seconds()
    return (
        f"resume on {label}: {held} notices held by a replica killed mid-broadcast, all delivered by the "
        f"other {seconds:.1f} s after the kill (default lease {lease:g} s, heartbeat every second)"
    )
