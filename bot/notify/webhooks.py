"""Delivers webhook events to their receivers, signed per the Standard Webhooks specification.

- Durability as for Slack messages (bot/store/claims.py): a delivery is queued in the transaction of
  the change it reports, claimed with a lease (FOR UPDATE SKIP LOCKED), and a delivery whose sender
  died mid-send is taken over once its lease runs out. Delivery is at least once: a receiver may get an
  event again (after a crash, a timeout or a replay), always under the same `webhook-id`.
- Order: the deliveries of one receiver and subject (a grant, licence or directive) go one at a time, in
  the order of their events; a later one waits while an earlier one is unfinished.
- Each attempt is one HTTP POST of the event's body (bot/present/webhooks.py) with the headers
  `webhook-id`, `webhook-timestamp` (real time: receivers check it against their own clocks) and
  `webhook-signature`, signed with the receiver's secret by the `standardwebhooks` library. Redirects
  are not followed.
- A 2xx answer delivers it. 410 Gone fails it at once (the receiver says it takes no more). Anything
  else (another status, a timeout, a refused connection) is tried again with backoff, a 429's or 503's
  Retry-After honoured, until MAX_ATTEMPTS; then it fails. A failed delivery no longer holds its lane
  up: every event carries the subject's whole state and version, so the next one brings the receiver up
  to date, and `accessbot webhooks replay` sends the missed ones again.
- Logs name the delivery, receiver, event type and outcome; never a secret, a body or a URL's query.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from standardwebhooks import Webhook

from bot import metrics
from bot.domain.status import OutboxStatus
from bot.domain.webhooks import Receiver
from bot.notify.dispatch import Claimed, Dispatcher
from bot.notify.sender import MAX_ATTEMPTS, MAX_BACKOFF, backoff_seconds
from bot.present.webhooks import body_text, message_id
from bot.store import claims
from bot.store import webhooks as rows
from bot.store.db import Database
from bot.store.tables import WebhookDelivery, WebhookEvent
from bot.store.types import utcnow

log = logging.getLogger(__name__)

GONE = 410
USER_AGENT = "AccessBot-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the HTTP status (None without one), and how long the receiver asked us to
    wait (Retry-After, seconds) if it did."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# Statuses whose Retry-After is honoured: 429 (RFC 6585 §4) and 503 (RFC 9110 §15.6.4). On any other
# answer it is not a request to wait, and the usual backoff applies.
_WAIT_STATUSES = (429, 503)


def post(url: str, data: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
    """POST `data` to `url`, the whole exchange (connecting, sending and the answer) within `timeout`
    seconds: the socket's own timeout limits each read, so a receiver answering a byte at a time would
    otherwise hold the sender for as long as it likes; a watchdog cuts the connection at the deadline.
    A redirect is an answer like any other: a signed body is never sent on to another URL. Never raises
    for what the network or the receiver does."""
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    deadline = threading.Event()

    def cut_off() -> None:
        deadline.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target, body=data, headers=dict(headers))
        response = connection.getresponse()
        status, wait = response.status, response.getheader("Retry-After")
    except (OSError, http.client.HTTPException) as error:
        if deadline.is_set() or isinstance(error, TimeoutError):
            return Answer(None, "timed out")
        return Answer(None, f"no answer ({type(error).__name__})")
    finally:
        watchdog.cancel()
        connection.close()
    if 200 <= status < 300:
        return Answer(status)
    return Answer(status, f"HTTP {status}", _retry_after(wait) if status in _WAIT_STATUSES else None)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: the usual backoff will do
        return None


def _count(receiver: str, status: str, answer: Answer) -> None:
    """The attempt in the metrics: delivered, failed for good (410, or out of attempts) or retried."""
    if status == OutboxStatus.SENT:
        metrics.WEBHOOK_DELIVERED.labels(receiver).inc()
    elif status == OutboxStatus.FAILED:
        reason = "http_410" if answer.status == GONE else "gave_up"
        metrics.WEBHOOK_FAILED.labels(receiver, reason).inc()
    else:
        metrics.WEBHOOK_RETRIES.labels(receiver, metrics.webhook_reason(answer.status, answer.error)).inc()


class WebhookSender(Dispatcher):
    """Delivers pending webhook deliveries to the configured receivers (see the module docstring).
    `secrets`: receiver name -> its `whsec_…` secret; `clock` gives the time for leases and backoff
    (the test clock in tests); `send` makes one POST (tests may pass their own)."""

    def __init__(
        self,
        db: Database,
        receivers: tuple[Receiver, ...],
        secrets: Mapping[str, str],
        *,
        workers: int = 4,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        send: Callable[[str, bytes, Mapping[str, str], float], Answer] = post,
    ):
        super().__init__(workers=workers, poll_seconds=poll_seconds, name="webhook")
        self.db = db
        self.receivers = {r.name: r for r in receivers}
        self.signers = {name: Webhook(secret) for name, secret in secrets.items()}
        self.lease = timedelta(seconds=lease_seconds)
        self.timeout = timeout
        self.clock = clock
        self.send = send
        self.worker_id = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def start(self) -> None:
        """Start delivering, unless there is no receiver to deliver to."""
        if self.receivers:
            super().start()

    def claim_work(self, limit: int) -> list[Claimed]:
        """Claim due deliveries to the configured receivers (those of a receiver no longer configured
        wait, listed by `accessbot webhooks list`)."""
        if not self.receivers:
            return []
        with self.db.uow() as uow:
            claimed = rows.claim_due(
                uow.session,
                now=self.clock(),
                limit=limit,
                worker_id=self.worker_id,
                lease=self.lease,
                receivers=sorted(self.receivers),
                skip_ids=self.inflight_ids(),
            )
            uow.commit()
        return [(d.id or 0, partial(self._deliver_safely, d, e)) for d, e in claimed]

    def _deliver_safely(self, delivery: WebhookDelivery, event: WebhookEvent) -> None:
        try:
            self.deliver(delivery, event)
        except Exception:  # the lease runs out and the delivery is tried again
            log.exception("webhook delivery %s: unexpected failure", delivery.id)

    def deliver(self, delivery: WebhookDelivery, event: WebhookEvent) -> None:
        """Send one claimed delivery and record the outcome on it."""
        receiver = self.receivers[delivery.receiver]
        text = body_text(event)
        ident = message_id(event)
        signed_at = utcnow()  # real time, whatever the test clock says: receivers check it against theirs
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": ident,
            "webhook-timestamp": str(int(signed_at.timestamp())),
            "webhook-signature": self.signers[receiver.name].sign(ident, signed_at, text),
        }
        answer = self.send(receiver.url, text.encode("utf-8"), headers, self.timeout)
        self._record(delivery, event, answer)

    def _record(self, delivery: WebhookDelivery, event: WebhookEvent, answer: Answer) -> None:
        values: dict[str, Any] = {"response_status": answer.status, "claimed_until": None}
        what = f"webhook delivery {delivery.id} ({event.type} to {delivery.receiver})"
        if answer.delivered:
            values.update(status=OutboxStatus.SENT, sent_at=self.clock(), last_error=None)
        elif answer.status == GONE:
            log.warning("%s failed: the receiver answered 410 Gone", what)
            values.update(status=OutboxStatus.FAILED, last_error="HTTP 410: the receiver takes no more")
        elif delivery.attempts >= MAX_ATTEMPTS:
            log.warning("%s gave up after %s attempts: %s", what, delivery.attempts, answer.error)
            values.update(
                status=OutboxStatus.FAILED,
                last_error=f"gave up after {delivery.attempts} attempts: {answer.error}",
            )
        else:
            wait = backoff_seconds(delivery.attempts)
            if answer.retry_after is not None:
                wait = min(MAX_BACKOFF, max(wait, answer.retry_after))
            log.info("%s: %s; trying again in %.1fs", what, answer.error, wait)
            values.update(
                status=OutboxStatus.PENDING,
                next_attempt_at=self.clock() + timedelta(seconds=wait),
                claimed_by=None,
                last_error=answer.error,
            )
        _count(delivery.receiver, values["status"], answer)
        with self.db.uow() as uow:
            claims.record_attempt(uow.session, WebhookDelivery, delivery.id or 0, self.worker_id, values)
            uow.commit()

    def pending_count(self) -> int:
        """How many deliveries to the configured receivers are pending or being sent."""
        with self.db.read() as session:
            return rows.unfinished_count(session, sorted(self.receivers))
