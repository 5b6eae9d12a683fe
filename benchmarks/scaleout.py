"""Scale-out: `/access status` at 50 concurrent commands answered by one `accessbot serve` replica, then
spread in turn over two replicas on the same database (and the same machine), as a load balancer
would; throughput (answered commands per second), p50 and p99 of each, and the ratio of the two
throughputs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.support.bot_server import BOT_TOKEN, SIGNING_SECRET, BotServer, start_all
from tests.support.seed import add_directory_users, prepare_database
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
