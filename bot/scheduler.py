"""Background jobs in the server: expire grants and stale requests on time. Safe with several servers:
each job claims its rows with SKIP LOCKED (PostgreSQL) or runs under SQLite's single writer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.services import grants, requests
from bot.services.context import Context

log = logging.getLogger(__name__)


def default_jobs(ctx: Context) -> list[tuple[str, Callable[[], int]]]:
    return [
        ("expire grants", lambda: grants.expire_due_grants(ctx)),
        ("expire requests", lambda: requests.expire_stale_requests(ctx)),
    ]


class Scheduler:
    def __init__(self, jobs: list[tuple[str, Callable[[], int]]], interval: float):
        self.jobs = jobs
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def run_once(self) -> dict[str, int]:
        done = {}
        for name, job in self.jobs:
            try:
                # A job handles a batch at a time; keep going while it finds a full one.
                total = 0
                while not self._stop.is_set():
                    count = job()
                    total += count
                    if count == 0 or count < 100:
                        break
                done[name] = total
                if total:
                    log.info("%s: %d", name, total)
            except Exception:
                log.exception("scheduled job %r failed; it will run again", name)
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)
