"""`python -m benchmarks`: AccessBot's speed, measured in one run, as ratios where a floor or peer exists.

- directive: a directive applied to and lifted from N grants (default 100,000) on SQLite, and on
  PostgreSQL with --postgres URL (a database is created and dropped for the run). Target: 2 s or less.
- recheck: the entitlement rule re-checked over the same N grants: when nothing changed (the timer's
  safety net), when workflows make the model US-persons-only (half the grants suspended, their holders
  told) and when they make it open again (those grants reinstated). Target: 2 s or less each.
- broadcast: N notices (default 500) under an emulated workspace limit of R chat.postMessage calls per
  second (default 20), delivered by a real `accessbot serve`; the floor is (N - burst) / R seconds.
- acks: `/access status` answered at 1, 20 and 50 concurrent commands (default 1,000 each), p50 and
  p99, against a bare Bolt app that only acks, on the same waitress settings (benchmarks/bare_bolt.py).
- gateway: the decision API (POST /v1/access/check) answered at 50 concurrent checks (default 1,000),
  by personal key and by user ID, p50 and p99, against GET /healthz of the same server (one query).
- approval hop: an Approve click to the next approver's DM (the emulator's receipt of chat.postMessage),
  p50 and p99 over K hops (default 40).
- scaleout: `/access status` at 50 concurrent commands (default 1,000) answered by one `serve` replica,
  then spread over two on the same database: throughput of each and their ratio; and the time from a
  SIGKILL of one of two replicas mid-broadcast until the other delivered what it held
  (benchmarks/scaleout.py).
- memory: `serve`'s peak RSS idle, under the 50-concurrent acks load and during 1,000- and
  10,000-notice broadcasts (benchmarks/memory.py, with its targets).
- export: `accessbot audit export` of M audit events (default 1,000,000) and of a tenth of them, each in
  a process of its own: peak memory of each and their ratio (about 1: memory does not grow with the
  number of events), and events per second.

Figures depend on the machine: run it on the one you quote, with nothing else busy. The suite asserts
behaviour only; speed is measured here.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks import memory, scaleout
from benchmarks.audience import MODEL_CHANNEL, holders_served, issue_order
from bot.config import Settings
from bot.services import directives, recheck
from bot.services.context import Context
from bot.store import migrate
from bot.store.db import Database
from bot.store.types import utcnow
from bot.workflows import load_catalog
from tests.support.bot_server import BOT_TOKEN, FIXTURES, REPO, SIGNING_SECRET, BotServer, free_port
from tests.support.databases import fresh_database
from tests.support.scale import MODEL, frontier_order, seed_holders, seed_licences
from tests.support.seed import add_directory_users, add_grants, prepare_database
from tests.support.slack import SlackDriver, SlackEmulator

DIRECTIVE_TARGET_SECONDS = 2.0
# `serve` as deployed: the suite's servers run the scheduler every 0.25 s to see its jobs happen quickly,
# which a benchmark of requests would measure as load no deployment has (the default is 15 s).
AS_DEPLOYED = {"ACCESSBOT_SCHEDULER_INTERVAL": str(Settings.model_fields["scheduler_interval"].default)}
# The workspace limit of chat.postMessage the broadcast emulates and the other benchmarks state.
WORKSPACE_POSTS_PER_SECOND = 20
# Slack takes about one message a second into one conversation: the approval-hop loop starts a request
# no sooner than that after the last, so that each approver's DM measures the bot, not Slack's pace.
CONVERSATION_PACE = 1.0
WHY = "Benchmarking the approval path of the quarterly evaluation"


def analyze(db: Database) -> None:
    """Gather PostgreSQL's planner statistics of the seeded tables, as its autovacuum does soon after a
    bulk load: a company's database holding 100,000 grants has them."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def bench_directive(url: str, grants: int) -> tuple[float, float]:
    """Seconds to issue (apply) and to lift a non-US-persons directive over `grants` grants."""
    db = Database(url)
    try:
        migrate.upgrade(db)
        now = utcnow()
        seed_holders(db, grants, now)
        analyze(db)
        ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"))
        started = time.perf_counter()
        issued = directives.issue(ctx, actor="cli:bench", draft=frontier_order(ctx, now))
        applied = time.perf_counter() - started
        started = time.perf_counter()
        directives.lift(ctx, actor="cli:bench", directive_id=issued.directive.id or 0)
        lifted = time.perf_counter() - started
        return applied, lifted
    finally:
        db.dispose()


def bench_recheck(url: str, grants: int) -> tuple[float, float, float, float]:
    """Seconds to re-check `grants` grants when nothing changed, when the model becomes US-persons-only
    (suspending the non-US half), when it is open again (reinstating them), and when nothing changed
    under a require-licence directive that the non-US half's licences let them past."""
    db = Database(url)
    try:
        migrate.upgrade(db)
        seed_holders(db, grants, utcnow(), listed=True)
        analyze(db)
        catalog = load_catalog(FIXTURES / "workflows")
        open_ctx = Context(db=db, catalog=catalog)
        model = catalog.models[MODEL]
        us_only = replace(catalog, models={**catalog.models, MODEL: replace(model, us_persons_only=True)})
        timings = []
        for ctx, expected in (
            (open_ctx, 0),
            (replace(open_ctx, catalog=us_only), grants),
            (open_ctx, grants),
        ):
            started = time.perf_counter()
            changes = recheck.run_recheck(ctx, trigger="benchmark")
            timings.append(time.perf_counter() - started)
            assert changes >= expected // 2, (changes, expected)
        seed_licences(db, grants, utcnow())
        directives.issue(
            open_ctx, actor="cli:bench", draft=frontier_order(open_ctx, utcnow(), "require-licence")
        )
        started = time.perf_counter()
        assert recheck.run_recheck(open_ctx, trigger="benchmark") == 0
        licensed = time.perf_counter() - started
        return timings[0], timings[1], timings[2], licensed
    finally:
        db.dispose()


def bench_broadcast(url: str, folder: Path, notices: int, rate: int) -> tuple[float, float, int]:
    """(seconds, floor in seconds, 429 answers) for a directive DM to `notices` people under `rate`/s."""
    # The operator states the workspace's limit, as Slack's support would tell them.
    stated = {"ACCESSBOT_SLACK_POSTS_PER_MINUTE": str(rate * 60)}
    with holders_served(url, folder, notices, "broadcast.log", **stated) as (server, emulator, recipients):
        burst = rate  # the emulator's bucket starts full: one second's worth goes at once
        emulator.set_rate_limit("chat.postMessage", per_second=rate)
        issue_order(server, folder)
        emulator.wait_for(
            lambda: all(emulator.messages(u) for u in recipients) and emulator.messages(MODEL_CHANNEL),
            timeout=notices / rate * 4 + 60,
            interval=0.05,
        )
        # From the first post Slack received to the last it accepted: the sender's pace, without the
        # CLI's start-up or the sender's poll interval.
        posts = emulator.calls("chat.postMessage")
        accepted = [c.at for c in posts if c.status == 200]
        elapsed = max(accepted) - min(c.at for c in posts)
        limited = sum(1 for c in posts if c.status == 429)
        floor = max(1.0 / rate, (notices + 1 - burst) / rate)
        return elapsed, floor, limited


def bench_approval_hops(url: str, folder: Path, hops: int) -> list[float]:
    """Seconds from an Approve click to the emulator receiving the next approver's DM, `hops` times."""
    alice, maria = "U0ALICE01", "U0MARIA01"
    samples: list[float] = []
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        add_directory_users(emulator)
        prepare_database(url)
        stated = {"ACCESSBOT_SLACK_POSTS_PER_MINUTE": str(WORKSPACE_POSTS_PER_SECOND * 60)}
        server = BotServer(url, emulator, folder / "hops.log", **AS_DEPLOYED, **stated).start()
        slack = server.driver(emulator)
        # The emulator, standing in for Slack, records each call in this process: a full collection here
        # (every call and message it has kept, walked each time) would be counted as the bot's delay.
        gc.collect()
        gc.freeze()
        try:
            next_request = time.monotonic()
            while len(samples) < hops:
                time.sleep(max(0.0, next_request - time.monotonic()))
                next_request = time.monotonic() + CONVERSATION_PACE
                reply = slack.command(alice, f"request mythos-5 {WHY}")
                found = re.search(r"R(\d+) filed", reply.body)
                assert found, reply.body
                request_id = found.group(1)
                approver, value = maria, f"{request_id}:0"
                message = emulator.wait_for(lambda v=value: _asking(emulator, maria, v))
                for position in (0, 1):  # manager, then model owner; export compliance would come next
                    seen = len(emulator.calls("chat.postMessage"))
                    clicked = time.time()
                    slack.press_in_message(approver, "approval_approve", message, value_contains=value)
                    value = f"{request_id}:{position + 1}"
                    at, approver = emulator.wait_for(
                        lambda s=seen, v=value: _asked(emulator, s, v), timeout=30
                    )
                    samples.append(at - clicked)
                    message = emulator.wait_for(lambda a=approver, v=value: _asking(emulator, a, v))
                slack.command(alice, f"cancel R{request_id}")  # so that the next request can be filed
        finally:
            server.stop()
            gc.unfreeze()
    return samples[:hops]


def _asking(emulator: SlackEmulator, user: str, value: str) -> dict[str, Any] | None:
    """The person's latest DM that holds a button for `value` (a later one may be a notice)."""
    for message in reversed(emulator.messages(user)):
        if f'"{value}"' in json.dumps(message.get("blocks")):
            return message
    return None


def _asked(emulator: SlackEmulator, seen: int, value: str) -> tuple[float, str] | None:
    """When, and to whom, the first DM asking to decide `value` (`<request>:<step>`) reached Slack."""
    for call in emulator.calls("chat.postMessage")[seen:]:
        if call.status == 200 and f'"{value}"' in json.dumps(call.params.get("blocks")):
            return call.at, str(call.params.get("channel"))
    return None


def _ack_latencies(driver: SlackDriver, users: list[str], concurrency: int, count: int) -> list[float]:
    """Seconds per answered `/access status`, `count` of them sent by `concurrency` threads at once."""

    def one(n: int) -> float:
        reply = driver.command(users[n % len(users)], "status")
        assert reply.status == 200, reply.body[:200]
        return reply.elapsed

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def bench_acks(
    url: str, folder: Path, levels: list[int], count: int
) -> list[tuple[int, list[float], list[float]]]:
    """For each concurrency level: ack latencies of AccessBot and of a bare Bolt app on waitress."""
    users = ["U0ALICE01", "U0BORIS01", "U0MARIA01", "U0EVE0001"]
    results = []
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        add_directory_users(emulator)
        prepare_database(url)
        server = BotServer(url, emulator, folder / "acks.log", **AS_DEPLOYED).start()
        port = free_port()
        bare = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bare_bolt", str(port), SIGNING_SECRET],
            cwd=str(REPO),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            peer = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, emulator)
            _wait_until_up(peer)
            ours = server.driver(emulator)
            for level in levels:
                _ack_latencies(ours, users, level, level)  # warm the pools
                _ack_latencies(peer, users, level, level)
                results.append(
                    (
                        level,
                        _ack_latencies(ours, users, level, count),
                        _ack_latencies(peer, users, level, count),
                    )
                )
        finally:
            bare.terminate()
            bare.wait(10)
            server.stop()
    return results


GATEWAY_TOKEN = "bench-3f9a1c2b7d8e4f6a0b1c2d3e4f5a6b7c"


def _timed_requests(make: Callable[[], urllib.request.Request], concurrency: int, count: int) -> list[float]:
    """Seconds per answered request, `count` of them sent by `concurrency` threads at once."""

    def one(_n: int) -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(make(), timeout=30) as response:
            response.read()
            assert response.status == 200, response.status
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def bench_gateway(url: str, folder: Path, concurrency: int, count: int) -> dict[str, list[float]]:
    """Latencies of gateway checks (by key and by user ID, each allowed) and of GET /healthz, on one
    `accessbot serve`."""
    from bot.services.context import Context as ServiceContext
    from bot.services.keys import create_key

    holder = "U0BORIS01"
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        add_directory_users(emulator)
        prepare_database(url)
        add_grants(url, [holder], "lumen-3")
        db = Database(url)
        try:
            key = create_key(ServiceContext(db=db, catalog=load_catalog(FIXTURES / "workflows")), holder).key
        finally:
            db.dispose()
        server = BotServer(
            url, emulator, folder / "gateway.log", ACCESSBOT_GATEWAY_TOKEN=GATEWAY_TOKEN
        ).start()
        try:

            def check(body: dict[str, str]) -> Callable[[], urllib.request.Request]:
                data = json.dumps(body).encode()
                headers = {"Authorization": f"Bearer {GATEWAY_TOKEN}", "Content-Type": "application/json"}
                return lambda: urllib.request.Request(f"{server.url}/v1/access/check", data, headers)

            kinds = {
                "key": check({"key": key, "model": "lumen-3"}),
                "user": check({"user": holder, "model": "lumen-3"}),
                "healthz": lambda: urllib.request.Request(f"{server.url}/healthz"),
            }
            for make in kinds.values():
                _timed_requests(make, concurrency, concurrency)  # warm the pools
            return {name: _timed_requests(make, concurrency, count) for name, make in kinds.items()}
        finally:
            server.stop()


def _wait_until_up(driver: SlackDriver) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if driver.command("U0ALICE01", "status").status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bare Bolt app did not start")


# Runs the CLI's export to /dev/null and reports its own peak memory (KiB): VmHWM of /proc/self/status,
# the peak of this program's memory only. Not getrusage's ru_maxrss: Linux keeps that across exec, so
# it reports the benchmark process that started the export whenever that one was larger.
_EXPORT_RUN = (
    "import os, sys\n"
    "from bot.cli import main\n"
    "from benchmarks.memory import status_kib\n"
    "code = main(['audit', 'export', '--output', os.devnull], environ=dict(os.environ))\n"
    "print(status_kib(os.getpid())['VmHWM'], file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def fill_audit(url: str, events: int) -> None:
    """Add `events` audit events to the migrated database at `url`, in one INSERT … SELECT over a
    recursive count (both databases have them), each with a small JSON detail as real events do."""
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_event (at, actor, action, subject_type, subject_id, detail) "
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :events) "
                    "SELECT :at, 'system', 'grant.held', 'grant', CAST(i AS VARCHAR(16)), :detail FROM n"
                ),
                {"events": events, "at": utcnow().replace(tzinfo=None), "detail": '{"recheck_id": 1}'},
            )
    finally:
        db.dispose()


def bench_export(url: str, events: int) -> list[tuple[int, float, int]]:
    """(events, seconds, peak KiB) of exporting a tenth of `events`, then all of them."""
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ACCESSBOT_", "TEST_"))}
    results, done = [], 0
    for size in (events // 10, events):
        fill_audit(url, size - done)
        done = size
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", _EXPORT_RUN],
            cwd=str(REPO),
            env={**env, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=True,
        )
        results.append((size, time.perf_counter() - started, int(run.stderr.strip().splitlines()[-1])))
    return results


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure on as well as SQLite")
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--notices", type=int, default=500)
    parser.add_argument(
        "--rate",
        type=int,
        default=WORKSPACE_POSTS_PER_SECOND,
        help="emulated posts per second for the broadcast",
    )
    parser.add_argument("--hops", type=int, default=40)
    parser.add_argument("--acks", type=int, default=1000, help="slash commands per concurrency level")
    parser.add_argument("--checks", type=int, default=1000, help="gateway checks per kind")
    parser.add_argument("--events", type=int, default=1_000_000, help="audit events to export")
    kinds = ("acks", "directive", "recheck", "broadcast", "hops", "gateway", "export", "scaleout", "memory")
    parser.add_argument("--only", choices=kinds, action="append")
    args = parser.parse_args()
    wanted = set(args.only or kinds)
    databases = [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as scratch:
        folder = Path(scratch)
        for label, postgres in databases:
            if "acks" in wanted:
                with fresh_database(folder, postgres) as url:
                    for level, ours, peer in bench_acks(url, folder, [1, 20, 50], args.acks):
                        a50, a99 = percentile(ours, 0.5) * 1000, percentile(ours, 0.99) * 1000
                        b50, b99 = percentile(peer, 0.5) * 1000, percentile(peer, 0.99) * 1000
                        print(
                            f"ack of /access status, {level} concurrent, on {label}: AccessBot p50 "
                            f"{a50:.0f} ms p99 {a99:.0f} ms; bare Bolt p50 {b50:.0f} ms p99 {b99:.0f} ms; "
                            f"ratio at p99 {a99 / b99:.2f}"
                        )
            if "directive" in wanted:
                with fresh_database(folder, postgres) as url:
                    applied, lifted = bench_directive(url, args.grants)
                target = DIRECTIVE_TARGET_SECONDS
                print(
                    f"directive over {args.grants:,} grants on {label}: apply {applied:.2f} s "
                    f"({applied / target:.2f} of the {target:.0f} s target), "
                    f"lift {lifted:.2f} s ({lifted / target:.2f})"
                )
            if "recheck" in wanted:
                with fresh_database(folder, postgres) as url:
                    unchanged, suspended, reinstated, licensed = bench_recheck(url, args.grants)
                target = DIRECTIVE_TARGET_SECONDS
                print(
                    f"re-check of {args.grants:,} grants on {label}: nothing changed {unchanged:.2f} s "
                    f"({unchanged / target:.2f} of the {target:.0f} s target), half suspended "
                    f"{suspended:.2f} s ({suspended / target:.2f}), half reinstated {reinstated:.2f} s "
                    f"({reinstated / target:.2f}), nothing changed under a require-licence directive with "
                    f"{args.grants // 2:,} licences {licensed:.2f} s ({licensed / target:.2f})"
                )
            if "broadcast" in wanted:
                with fresh_database(folder, postgres) as url:
                    elapsed, floor, limited = bench_broadcast(url, folder, args.notices, args.rate)
                print(
                    f"broadcast of {args.notices} notices at {args.rate}/s on {label}: {elapsed:.1f} s "
                    f"against a floor of {floor:.1f} s (ratio {elapsed / floor:.2f}), "
                    f"{limited} answers of 429"
                )
            if "gateway" in wanted:
                with fresh_database(folder, postgres) as url:
                    timings = bench_gateway(url, folder, 50, args.checks)
                h50, h99 = (percentile(timings["healthz"], q) * 1000 for q in (0.5, 0.99))
                for name in ("key", "user"):
                    c50, c99 = (percentile(timings[name], q) * 1000 for q in (0.5, 0.99))
                    print(
                        f"gateway check by {name}, 50 concurrent, on {label}: p50 {c50:.0f} ms "
                        f"p99 {c99:.0f} ms; /healthz p50 {h50:.0f} ms p99 {h99:.0f} ms; "
                        f"ratio at p99 {c99 / h99:.2f}"
                    )
            if "export" in wanted:
                with fresh_database(folder, postgres) as url:
                    (small, small_s, small_kib), (large, large_s, large_kib) = bench_export(url, args.events)
                print(
                    f"audit export on {label}: {small:,} events {small_s:.1f} s, "
                    f"peak {small_kib / 1024:.0f} MiB; "
                    f"{large:,} events {large_s:.1f} s ({large / large_s:,.0f} events/s), peak "
                    f"{large_kib / 1024:.0f} MiB; memory ratio {large_kib / small_kib:.2f} for "
                    f"{large // small}x the events"
                )
            if "scaleout" in wanted:
                with fresh_database(folder, postgres) as url:
                    print(scaleout.describe(label, *scaleout.bench_scaleout(url, folder, args.acks)))
                with fresh_database(folder, postgres) as url:
                    held, seconds = scaleout.bench_resume(url, folder, args.notices)
                    print(scaleout.describe_resume(label, url, held, seconds))
            if "memory" in wanted:
                memory.report(
                    label,
                    folder,
                    lambda p=postgres: fresh_database(folder, p),
                    lambda url, levels, count: bench_acks(url, folder, levels, count),
                    commands=args.acks,
                )
            if "hops" in wanted:
                with fresh_database(folder, postgres) as url:
                    samples = bench_approval_hops(url, folder, args.hops)
                p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
                print(
                    f"Approve click to the next approver's DM on {label}, {len(samples)} hops: "
                    f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, mean {statistics.mean(samples) * 1000:.0f} ms"
                )


if __name__ == "__main__":
    main()
