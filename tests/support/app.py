"""The bot in the test's own process: the runtime, WSGI app and waitress server `accessbot serve` runs,
built from the same settings, on a test clock, serving signed Slack requests over real HTTP.

Starting it costs milliseconds instead of a new interpreter, and the test can move time forward
(`bot.clock.advance(days=2)`) and run the scheduled jobs at once (`bot.run_jobs()`) instead of waiting.
The few tests about the process itself (kill -9, `serve` start-up) use tests/support/bot_server.py.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from waitress import wasyncore

from bot.clock import FileClock
from bot.config import load_settings
from bot.runtime import Runtime, build_runtime
from bot.server import SLACK_PATH, finish_requests, http_server
from bot.store.tables import OutboxMessage
from tests.support.bot_server import BOT_TOKEN, FIXTURES, REPO, SIGNING_SECRET
from tests.support.slack import SlackDriver, SlackEmulator

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Captured(logging.Handler):
    """Every log line the process writes while one bot runs, formatted as `serve` writes them
    (tracebacks included, so a test can assert there were none)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(_FORMAT))
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._guard:
            self.lines.append(line)


class InProcessBot:
    """One AccessBot replica in this process. `env` holds the variables it was configured with (the CLI
    helpers in tests/support/cli.py run `accessbot` with the same ones, on the same clock)."""

    def __init__(
        self, database_url: str, emulator: SlackEmulator, workdir: Path, clock: FileClock, **env: str
    ):
        self.workdir = workdir
        self.clock = clock
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ACCESSBOT_", "TEST_"))}
        self.env = {
            **base,
            "DATABASE_URL": database_url,
            "SLACK_API_URL": emulator.url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ACCESSBOT_WORKFLOWS_DIR": str(FIXTURES / "workflows"),
            "ACCESSBOT_TEMPLATES_DIR": str(REPO / "templates"),
            # Each tick runs every job's queries: at 0.25 s an idle bot used a seventh of a core, a third
            # of that at 1 s. Tests that need the jobs now call run_jobs() or wait on what they do.
            "ACCESSBOT_SCHEDULER_INTERVAL": "1",
            "ACCESSBOT_LOG_LEVEL": "INFO",
            "ACCESSBOT_CLOCK_FILE": str(clock.path),
            "PWD": str(workdir),
            **env,
        }
        self.runtime: Runtime | None = None
        self._server: Any = None
        self._http: threading.Thread | None = None
        self._stopping = threading.Event()
        self._captured = _Captured()
        self._levels: dict[str, int] = {}
        self._inflight = 0
        self._inflight_guard = threading.Lock()

    # -- what BotServer offers too ------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}{SLACK_PATH}"

    def driver(self, emulator: SlackEmulator) -> SlackDriver:
        return SlackDriver(self.events_url, SIGNING_SECRET, emulator)

    def log(self) -> str:
        with self._captured._guard:
            return "\n".join(self._captured.lines)

    # -- life ---------------------------------------------------------------------------------------

    def start(self) -> InProcessBot:
        root = logging.getLogger()
        self._levels = {"": root.level}
        root.setLevel(logging.INFO)
        root.addHandler(self._captured)
        settings = load_settings(self.env, env_file=None)
        self.runtime = build_runtime(settings)
        for pool in (self.runtime.responder.pool, self.runtime.responder.background):
            self._count_work(pool)
        self._server = http_server(self.runtime, "127.0.0.1", 0, settings.http_threads)
        self._http = threading.Thread(target=self._serve_http, name="accessbot-http", daemon=True)
        self._http.start()
        self.runtime.start_background()
        return self

    def _serve_http(self) -> None:
        # waitress's own run() loops until its sockets close under it; loop in short turns instead, so
        # that stop() can end the loop before closing the server.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=self._server._map, count=1)

    def stop(self) -> None:
        self._stopping.set()
        if self._http is not None:
            self._http.join(10)
        if self._server is not None:
            self._server.close()
            finish_requests(self._server)
        if self.runtime is not None:
            self.runtime.stop()
        root = logging.getLogger()
        root.removeHandler(self._captured)
        root.setLevel(self._levels.get("", logging.WARNING))

    # -- waiting on events instead of sleeping ----------------------------------------------------------

    def _count_work(self, pool: ThreadPoolExecutor) -> None:
        """Count the listener work this replica has queued or running (answers, work after the ack)."""
        submit = pool.submit

        def counted(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            with self._inflight_guard:
                self._inflight += 1
            future = submit(fn, *args, **kwargs)
            future.add_done_callback(self._work_done)
            return future

        pool.submit = counted  # type: ignore[method-assign]

    def _work_done(self, _future: Future[Any]) -> None:
        with self._inflight_guard:
            self._inflight -= 1

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until this replica has nothing left to do: no listener work queued or running and no
        outbox message waiting or being sent. Seen idle on several looks in a row, because finished
        work can queue a reply as it ends. Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        idle_looks = 0
        while idle_looks < 4:
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not settle in {timeout} s")
            with self._inflight_guard:
                busy = self._inflight > 0
            idle_looks = 0 if busy or self._undelivered() else idle_looks + 1
            time.sleep(0.03)

    def _undelivered(self) -> int:
        assert self.runtime is not None
        with self.runtime.ctx.read() as session:
            return len(
                session.exec(
                    select(OutboxMessage.id).where(col(OutboxMessage.status).in_(("pending", "sending")))
                ).all()
            )

    # -- time ---------------------------------------------------------------------------------------

    def run_jobs(self) -> dict[str, int]:
        """Run every scheduled job now (expiry, scheduled directives, re-routing, progress), as the
        scheduler would on its next tick; returns what each did."""
        assert self.runtime is not None
        return self.runtime.worker.scheduler.run_due(force=True)
