"""The loop both senders run (Slack messages, bot/notify/sender.py; webhooks, bot/notify/webhooks.py):
one dispatcher thread claims what can go now and hands each claimed row to a pool of workers, waking
early when a commit queued something, never holding more rows than it has workers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

# One claimed row: its id, and the work that delivers it and records the outcome (never raises).
Claimed = tuple[int, Callable[[], None]]


class Dispatcher:
    """Subclasses implement `claim_work(limit)`; `inflight_ids()` are the rows being delivered here."""

    def __init__(self, *, workers: int, poll_seconds: float, name: str):
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._name = name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # One claim at a time in this process: a row claimed by one thread is counted in flight before
        # another thread claims, so that neither can take it over as a row whose lease ran out.
        self._claiming = threading.Lock()
        self._inflight: set[int] = set()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._thread: threading.Thread | None = None

    def claim_work(self, limit: int) -> list[Claimed]:
        """Claim up to `limit` rows that can go now."""
        raise NotImplementedError

    def idle_wait(self) -> float:
        """Seconds to wait for a wake-up when nothing could be claimed."""
        return self.poll_seconds

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the dispatcher thread (it claims rows and hands them to the worker pool)."""
        self._thread = threading.Thread(target=self._run, name=f"{self._name}-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due rows now rather than at the next poll (called after a commit that queued some)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop dispatching, wait up to `timeout` seconds for the dispatcher, then for sends in flight."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.dispatch()
            except Exception:
                log.exception("%s dispatch failed; retrying shortly", self._name)
                claimed = 0
            if claimed == 0 or self._free_slots() == 0:
                self._wake.wait(self.idle_wait())
                self._wake.clear()

    def _free_slots(self) -> int:
        with self._lock:
            return self.workers - len(self._inflight)

    def inflight_ids(self) -> list[int]:
        with self._lock:
            return list(self._inflight)

    # -- claiming -----------------------------------------------------------------------------------------

    def dispatch(self) -> int:
        """Claim what can go now and hand it to the workers; returns how many were claimed."""
        with self._claiming:
            free = self._free_slots()
            if free <= 0:
                return 0
            claimed = self.claim_work(free)
            with self._lock:
                self._inflight.update(item_id for item_id, _ in claimed)
        for item_id, work in claimed:
            self._pool.submit(self._work_and_release, item_id, work)
        return len(claimed)

    def _work_and_release(self, item_id: int, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            with self._lock:
                self._inflight.discard(item_id)
            self._wake.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Deliver everything due, in this thread's control; True when nothing is left to do."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.dispatch()
            with self._lock:
                busy = bool(self._inflight)
            if not busy and self.pending_count() == 0:
                return True
            time.sleep(0.02)
        return False

    def pending_count(self) -> int:
        """How many rows are left to deliver."""
        raise NotImplementedError
