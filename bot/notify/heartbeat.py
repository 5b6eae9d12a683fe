"""The heartbeat of a live sender: every second it extends the leases of the rows this process is
delivering (Slack messages and webhook deliveries), so a lease need only outlast a missed beat or two,
not the longest send. A process that dies stops beating, and its rows are taken over by another sender
as soon as their short lease runs out (ACCESSBOT_OUTBOX_LEASE: by default 4 s on PostgreSQL, 10 s on
SQLite; see Settings.outbox_lease_seconds): a restarted or surviving process resumes them within
seconds. The taker looks for the post in the channel's history first (bot/notify/history.py), so a row
is still never sent twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.store import claims
from bot.store.db import Database

log = logging.getLogger(__name__)

BEAT_SECONDS = 1.0  # at most; a lease shorter than four beats beats four times per lease


class Holder(Protocol):
    """A sender whose claims the heartbeat renews (bot/notify/dispatch.py's Dispatcher)."""

    worker_id: str
    lease: timedelta

    def inflight_ids(self) -> list[int]: ...


class Heartbeat:
    """Renews the claims of `holders`, each with the table its rows live in, on `clock`'s time."""

    def __init__(self, db: Database, clock: Callable[[], datetime], holders: Sequence[tuple[Any, Holder]]):
        self.db = db
        self.clock = clock
        self.holders = holders
        shortest = min((holder.lease.total_seconds() for _, holder in holders), default=4 * BEAT_SECONDS)
        self.interval = min(BEAT_SECONDS, shortest / 4)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> int:
        """Extend every claim this process holds by its sender's lease from now; how many it still held
        (a row another sender took over is not renewed). Writes nothing when nothing is in flight."""
        held = [(table, holder, holder.inflight_ids()) for table, holder in self.holders]
        if not any(ids for _, _, ids in held):
            return 0
        now = self.clock()
        renewed = 0
        with self.db.uow() as uow:
            for table, holder, ids in held:
                if ids:
                    until = now + holder.lease
                    renewed += claims.renew_claims(uow.session, table, ids, holder.worker_id, until)
            uow.commit()
        return renewed

    def start(self) -> None:
        """Beat every `interval` seconds in a thread of its own until stopped."""
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating; wait up to `timeout` seconds for a beat under way."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # the database is away: the next beat tries again, within the lease
                log.warning("heartbeat failed; trying again", exc_info=True)
