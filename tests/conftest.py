"""Fixtures for every test layer. e2e tests get the bot running in their own process on a test clock
(tests/support/app.py; a real `accessbot serve` process where the process itself is under test), a fresh
database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set) and the Slack emulator."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bot.clock import FileClock
from tests.support.app import InProcessBot
from tests.support.bot_server import BOT_TOKEN, BotServer
from tests.support.compiled_cache import share_compiled_statements
from tests.support.databases import drop_queued_databases, fresh_database, using_postgres
from tests.support.seed import add_directory_users, prepare_database
from tests.support.slack import SlackDriver, SlackEmulator
from tests.unit.template_cache import CACHE_FOLDER

# The suite asserts behaviour, never time: Hypothesis's per-example deadline (200 ms) and its "data
# generation too slow" check fail examples that a busy machine merely ran slowly.
settings.register_profile("accessbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("accessbot")

share_compiled_statements()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=300,
        help="how many signed fuzzed payloads tests/e2e/test_fuzz.py sends (the suite's seeded run: 300)",
    )


# Fixtures through which a test reaches its database (item.fixturenames lists them however indirectly
# a test asks for them).
DATABASE_FIXTURES = frozenset({"database_url", "postgres_url"})


TEMPLATE_TESTS = Path(__file__).parent / "unit" / "test_templates.py"


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run that includes the template tests builds their samples in a process of its own from the
    start (tests/unit/template_cache.py), overlapping the other tests; the first worker to reach a
    template test would otherwise build them while the others wait for it."""
    config = session.config
    cache = getattr(config, "cache", None)
    if hasattr(config, "workerinput") or cache is None or using_postgres():
        return  # a worker, no cache to share them through, or a run that deselects them
    targets = [Path(config.rootpath, arg.split("::")[0]).resolve() for arg in config.args]
    if not any(target == TEMPLATE_TESTS or target in TEMPLATE_TESTS.parents for target in targets):
        return
    builder = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.template_cache", str(cache.mkdir(CACHE_FOLDER))],
        cwd=config.rootpath,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    config.stash[_BUILDER] = builder


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_queued_databases()  # each process drops its tests' databases in the background: wait for them
    builder = session.config.stash.get(_BUILDER, None)
    if builder is not None and builder.poll() is None:
        builder.kill()  # the run ended first (-x, a subset): whatever it finished stays cached
        builder.wait()


_BUILDER = pytest.StashKey[subprocess.Popen[bytes]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported and collected so far lives as long as the run: the collector's full passes
    (generation 2) need not walk it again after every few tests. gc.freeze() moves it out of their way.

    Each in-process bot leaves a few hundred thousand objects (its app, engine, compiled statements)
    behind it, in cycles only the collector frees, and at the default thresholds a worker went through
    about fifty full passes of half a second each over the e2e tests; collecting less often keeps a
    worker's memory about the same (250 MiB at most) and its collector's time to a third."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With TEST_DATABASE_URL set (CI's second run), only the tests that use a database run: every other
    test runs the same code on SQLite files of its own, as it did in the first run. So does a test marked
    `any_database`: what it proves (the pace of posts to Slack, a transport, a proxy's wiring) is the
    same on either database, and the store's part of it is tested on both elsewhere."""
    if not using_postgres():
        return
    keep: list[pytest.Item] = []
    skip: list[pytest.Item] = []
    for item in items:
        uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        either = item.get_closest_marker("any_database") is not None
        (keep if (uses_database or item.get_closest_marker("database")) and not either else skip).append(item)
    if skip:
        config.hook.pytest_deselected(items=skip)
        items[:] = keep


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    if not using_postgres():
        pytest.skip(
            "needs PostgreSQL: set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)"
        )
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    emu = SlackEmulator(bot_token=BOT_TOKEN)
    emu.start()
    add_directory_users(emu)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def clock(tmp_path: Path) -> FileClock:
    """The test clock every bot and CLI run of this test reads (ACCESSBOT_CLOCK_FILE); starts at now."""
    return FileClock.create(tmp_path / "clock.txt")


@pytest.fixture
def start_server(
    database_url: str, emulator: SlackEmulator, tmp_path: Path, clock: FileClock
) -> Iterator[Callable[..., InProcessBot]]:
    """Start a bot replica in this process (several share the database); `**env` overrides settings."""
    bots: list[InProcessBot] = []
    prepare_database(database_url)

    def start(**env: str) -> InProcessBot:
        bot = InProcessBot(database_url, emulator, tmp_path, clock, **env)
        bots.append(bot)
        return bot.start()

    yield start
    for bot in bots:
        bot.stop()
    for number, bot in enumerate(bots):
        print(f"--- bot {number} log ---\n{bot.log()[-20000:]}")


@pytest.fixture
def start_process(
    database_url: str, emulator: SlackEmulator, tmp_path: Path, clock: FileClock
) -> Iterator[Callable[..., BotServer]]:
    """Start `accessbot serve` as a real process, for tests about the process itself (kill -9 and
    restart, start-up)."""
    servers: list[BotServer] = []
    prepare_database(database_url)

    def start(**env: str) -> BotServer:
        log_path = tmp_path / f"server-{len(servers)}.log"
        server = BotServer(database_url, emulator, log_path, ACCESSBOT_CLOCK_FILE=str(clock.path), **env)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        print(f"--- {server.log_path.name} ---\n{server.log()[-20000:]}")


@pytest.fixture
def server(start_server: Callable[..., InProcessBot]) -> InProcessBot:
    return start_server()


@pytest.fixture
def slack(server: InProcessBot, emulator: SlackEmulator) -> SlackDriver:
    return server.driver(emulator)
