"""Delivers the outbox to Slack: in order within each channel, at Slack's pace, never losing a message
and never sending one twice.

- Claiming: a due item is claimed (status `sending`, a lease, a worker id) in a short transaction, with
  `FOR UPDATE SKIP LOCKED` on PostgreSQL so that several servers never claim the same item
  (bot/store/outbox.py). An item waits while an earlier item of its lane (a channel, a DM, a
  response_url) is still undelivered. Interactive messages go before broadcasts.
- Sending: one Slack call per kind of row (bot/notify/delivery.py). Posts carry the outbox id in message
  metadata; if an attempt may have reached Slack (timeout, 5xx, or a crash while `sending`, found when
  its lease runs out), the next attempt first looks for that id in conversations.history and only sends
  if it is not there (bot/notify/history.py).
- Pace: posts are spaced at the workspace's stated rate (bot/notify/post_rate.py), and to one channel
  at about one per second, short bursts allowed (bot/notify/pacing.py); a 429 pauses the method for
  Retry-After without counting as a failure, and slows the post rate until it recovers; other errors back off
  exponentially; permanent errors (channel_not_found, user_disabled, …; see slack_errors.py) are
  recorded as failed at once.
- People who left: a DM is not sent when `slack_account` says the person is deactivated, and rows with
  `check_account` ask users.info first (bot/notify/accounts.py). Such rows end `failed` with
  `account_deactivated`.
- The dispatcher never blocks request handling: listeners only insert rows and wake it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.domain.status import OutboxKind, OutboxStatus
from bot.logs import log_fields
from bot.notify.accounts import AccountChecks
from bot.notify.delivery import METHOD_OF_KIND, ComposeFn, Delivery, NotYet, Outcome, Refused, Sent, Trouble
from bot.notify.dispatch import Claimed, Dispatcher
from bot.notify.history import History
from bot.notify.pacing import Pacing
from bot.notify.post_rate import DEFAULT_POSTS_PER_MINUTE, PostRate
from bot.notify.reasons import reason_class
from bot.notify.slack_errors import Failure, classify
from bot.store import outbox as rows
from bot.store.db import Database
from bot.store.tables import OutboxMessage
from bot.store.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 15  # transient failures, with backoff capped at 5 minutes: about an hour of trying
MAX_BACKOFF = 300.0


class Sender(Dispatcher):
    """Delivers outbox rows (see the module docstring). `clock` gives aware UTC datetimes and is the only
    source of time for database timestamps and age checks; `composer(row)` renders each row's message
    (`{"text", "blocks"}`, or `{"view"}` for App Home rows: bot/notify/compose.py); `on_account(user_id,
    deleted)` records what users.info said about a DM's recipient (see AccountChecks)."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        composer: ComposeFn,
        *,
        workers: int = 8,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        posts_per_minute: float = DEFAULT_POSTS_PER_MINUTE,
        on_account: Callable[[str, bool], None] | None = None,
    ):
        super().__init__(workers=workers, poll_seconds=poll_seconds, name="outbox")
        self.db = db
        self.client = client
        self.lease = timedelta(seconds=lease_seconds)
        self.timeout = timeout
        self.clock = clock
        self.worker_id = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.pacing = Pacing()
        self.post_rate = PostRate(posts_per_minute)
        self.delivery = Delivery(
            db,
            client,
            clock=clock,
            timeout=timeout,
            history=History(db, client, self.lease),
            account_checks=AccountChecks(db, client, clock, record=on_account),
            composer=composer,
            renew=self._renew,
            take_token=self._pace_post,
        )

    def _pace_post(self, lane: str) -> None:
        """Just before a chat.postMessage: spend the lane's token and wait for the workspace's next slot
        (at most the in-flight posts' worth of intervals: each worker holds one row)."""
        self.pacing.take_token(lane)
        wait = self.post_rate.reserve()
        if wait > 0:
            time.sleep(wait)

    # -- claiming -----------------------------------------------------------------------------------------

    def idle_wait(self) -> float:
        return self.pacing.idle_wait(self.poll_seconds)

    def claim_work(self, limit: int) -> list[Claimed]:
        return [(item.id or 0, partial(self._deliver_safely, item)) for item in self.claim(limit)]

    def claim(self, limit: int) -> list[OutboxMessage]:
        """Interactive messages (approvals, answers) first, then broadcasts: a directive to thousands of
        people must not keep an approver waiting, nor let a response_url expire."""
        items = self._claim(limit, broadcast=False)
        if len(items) < limit:
            items += self._claim(limit - len(items), broadcast=True)
        return items

    def _claim(self, limit: int, *, broadcast: bool) -> list[OutboxMessage]:
        now = self.clock()
        inflight = self.inflight_ids()
        with self.db.uow() as uow:
            items = rows.claim_due(
                uow.session,
                now=now,
                limit=limit,
                broadcast=broadcast,
                worker_id=self.worker_id,
                lease=self.lease,
                skip_kinds=self.pacing.paused_kinds(METHOD_OF_KIND),
                skip_lanes=self.pacing.lanes_without_tokens(),
                skip_ids=inflight,
            )
            uow.commit()
        return items

    def _renew(self, item: OutboxMessage) -> bool:
        """Extend this worker's claim just before sending; False if another worker owns the item now."""
        with self.db.uow() as uow:
            renewed = rows.renew_claim(uow.session, item.id or 0, self.worker_id, self.clock() + self.lease)
            uow.commit()
        return renewed

    # -- delivering ---------------------------------------------------------------------------------------

    def _deliver_safely(self, item: OutboxMessage) -> None:
        with log_fields(outbox_id=item.id, kind=item.kind):
            try:
                self.deliver(item)
            except Exception:
                log.exception("outbox item %s: unexpected failure", item.id)
                self._record_failure(item, Failure("transient", "internal", maybe_sent=True))

    def deliver(self, item: OutboxMessage) -> None:
        """Send one claimed row and record the outcome on it; never raises."""
        try:
            outcome = self.delivery.deliver(item)
        except Exception as error:  # classified below: nothing here may kill the worker
            outcome = Trouble(classify(error), _method_of(error))
        self._record(item, outcome)

    # -- recording results --------------------------------------------------------------------------------

    def _record(self, item: OutboxMessage, outcome: Outcome) -> None:
        if isinstance(outcome, Sent):
            self._finish(item, OutboxStatus.SENT, channel=outcome.channel, ts=outcome.ts)
        elif isinstance(outcome, Refused):
            self._finish(item, OutboxStatus.FAILED, error=outcome.error)
        elif isinstance(outcome, NotYet):
            self._retry(item, outcome.delay, outcome.reason, uncertain=False, count_attempt=False)
        elif isinstance(outcome, Trouble):
            self._record_failure(item, outcome.failure, method=outcome.method)

    def _record_failure(self, item: OutboxMessage, failure: Failure, *, method: str | None = None) -> None:
        """Retry, pause or fail the row. `method` is the Web API method that failed (the one a rate
        limit pauses); by default the one the row's kind calls."""
        method = method or METHOD_OF_KIND.get(item.kind, item.kind)
        if failure.kind == "rate_limited":
            wait = failure.retry_after or 1.0
            self.pacing.pause(method, wait)
            if method == METHOD_OF_KIND[OutboxKind.POST]:
                self.post_rate.limited(wait)
            log.info("%s rate limited; pausing it for %.1fs", method, wait)
            # Keep `uncertain`: a rate-limited look-up in history has not cleared the doubt.
            self._retry(item, wait, failure.error, uncertain=item.uncertain, count_attempt=False)
            _count_pause(method, wait)
            return
        if failure.kind == "permanent":
            log.warning("outbox item %s failed permanently: %s", item.id, failure.error)
            self._finish(item, OutboxStatus.FAILED, error=failure.error)
            return
        if item.attempts >= MAX_ATTEMPTS:
            log.warning("outbox item %s gave up after %s attempts: %s", item.id, item.attempts, failure.error)
            self._finish(
                item, OutboxStatus.FAILED, error=f"gave up after {item.attempts} attempts: {failure.error}"
            )
            return
        backoff = backoff_seconds(item.attempts)
        log.info("outbox item %s: %s; trying again in %.1fs", item.id, failure.error[:80], backoff)
        self._retry(item, backoff, failure.error, uncertain=failure.maybe_sent or item.uncertain)

    def _retry(
        self, item: OutboxMessage, delay: float, error: str, *, uncertain: bool, count_attempt: bool = True
    ) -> None:
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": self.clock() + timedelta(seconds=delay),
            "claimed_until": None,
            "claimed_by": None,
            "last_error": error,
            "uncertain": uncertain,
        }
        if count_attempt:
            metrics.OUTBOX_RETRIES.labels(item.kind, reason_class(error)).inc()
        self._write(item, values, give_back_attempt=not count_attempt)

    def _finish(
        self,
        item: OutboxMessage,
        status: OutboxStatus,
        *,
        channel: str | None = None,
        ts: str | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
        if status == OutboxStatus.SENT:
            values.update(sent_at=self.clock(), sent_channel=channel, sent_ts=ts, uncertain=False)
        _count_finish(item.kind, status, error)
        self._write(item, values)

    def _write(self, item: OutboxMessage, values: dict[str, Any], *, give_back_attempt: bool = False) -> None:
        with self.db.uow() as uow:
            rows.record_attempt(
                uow.session, item.id or 0, self.worker_id, values, give_back_attempt=give_back_attempt
            )
            uow.commit()

    # -- for the CLI and tests ----------------------------------------------------------------------------

    def pending_count(self) -> int:
        """How many rows are pending or being sent."""
        with self.db.read() as session:
            return rows.unfinished_count(session)


def _count_pause(method: str, seconds: float) -> None:
    metrics.RATE_LIMIT_PAUSES.labels(method).inc()
    metrics.RATE_LIMIT_PAUSE_SECONDS.labels(method).inc(seconds)


def _count_finish(kind: str, status: OutboxStatus, error: str | None) -> None:
    if status == OutboxStatus.SENT:
        metrics.OUTBOX_DELIVERED.labels(kind).inc()
    else:
        metrics.OUTBOX_FAILED.labels(kind, reason_class(error)).inc()


def backoff_seconds(attempts: int) -> float:
    """How long to wait after the `attempts`-th failed attempt: doubling from 1 s, at most MAX_BACKOFF,
    with 20% jitter so that rows that failed together do not all come back together."""
    return min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)


def _method_of(error: BaseException) -> str | None:
    """The Web API method a SlackApiError came from (`.../api/users.info` -> `users.info`), or None."""
    if isinstance(error, SlackApiError):
        url = str(getattr(error.response, "api_url", "") or "")
        if "/api/" in url:
            return url.rsplit("/api/", 1)[1].split("?", 1)[0] or None
    return None


def sender_client(base_url: str, token: str, timeout: float) -> WebClient:
    """A WebClient that never retries on its own: a blind retry of a post could send it twice."""
    return WebClient(token=token, base_url=base_url, timeout=int(max(1, timeout)), retry_handlers=[])
