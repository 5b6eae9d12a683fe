"""Delivers the outbox to Slack: in order within each channel, at Slack's pace, never losing a message
and never sending one twice.

- Claiming: a due item is claimed (status `sending`, a lease, a worker id) in a short transaction, with
  `FOR UPDATE SKIP LOCKED` on PostgreSQL so that several servers never claim the same item. An item waits
  while an earlier item of its lane (a channel, a DM, a response_url) is still undelivered.
- Sending: posts carry the outbox id in message metadata. If an attempt may have reached Slack (timeout,
  5xx, or a crash while `sending`, found when its lease runs out), the next attempt first looks for that
  id in conversations.history and only sends if it is not there.
- Pace: 429 pauses the method for Retry-After without counting as a failure; posts to one channel are
  paced at about one per second (short bursts allowed); other errors back off exponentially; permanent
  errors (channel_not_found, user_disabled, …; see slack_errors.py) are recorded as failed at once.
- People who left: Slack still accepts a DM to a deactivated account, so a DM is not sent when
  `slack_account` says the person is deactivated, and rows with `check_account` ask users.info first
  (at most every 10 minutes per person). Such rows end `failed` with `account_deactivated`.
- Replies through a response_url (5 uses within 30 minutes) go to the person by DM once the URL is too
  old or Slack refuses it as expired or used up.
- App Home rows are rendered at send time and published with views.publish, passing the hash of the
  view last published so that Slack refuses to overwrite a newer one; on `hash_conflict` the view is
  rendered again and published without the stale hash.
- The dispatcher never blocks request handling: listeners only insert rows and wake it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import and_, exists, not_, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.notify.outbox import HOME, POST, RESPOND, UPDATE, is_person
from bot.notify.slack_errors import Failure, classify, classify_http, error_code, response_url_gone
from bot.store import accounts
from bot.store.db import Database
from bot.store.tables import DmChannel, HomeTab, OutboxMessage, SlackAccount
from bot.store.types import utcnow

log = logging.getLogger(__name__)

METADATA_EVENT = "accessbot_outbox"
# The Web API method each kind of row calls, paused as a whole when Slack rate-limits it.
METHOD_OF_KIND = {
    POST: "chat.postMessage",
    UPDATE: "chat.update",
    RESPOND: "response_url",
    HOME: "views.publish",
}
# Slack: a response_url works "up to 5 times within 30 minutes" of the interaction.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
# How long what users.info said about an account is trusted before a `check_account` row asks again.
ACCOUNT_CHECK_MAX_AGE = timedelta(minutes=10)
# The outbox error of a DM not sent because the person's Slack account is deactivated.
ACCOUNT_DEACTIVATED = "account_deactivated"
MAX_ATTEMPTS = 15  # transient failures, with backoff capped at 5 minutes: about an hour of trying
MAX_BACKOFF = 300.0
LANE_RATE = 1.0  # posts per second per channel
LANE_BURST = 3.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Sender:
    """Delivers outbox rows (see the module docstring). `clock` gives aware UTC datetimes and is the only
    source of time for database timestamps and age checks; `composer(row)` builds the message (for
    `{"compose": ...}` payloads: `{"text", "blocks"}`, or `{"view"}` for App Home rows)."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        workers: int = 8,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        composer: Callable[[OutboxMessage], dict[str, Any]] | None = None,
    ):
        self.db = db
        self.client = client
        self.workers = workers
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.clock = clock
        # Builds the message for rows queued in bulk with a {"compose": ...} payload.
        self.composer = composer
        self.worker_id = f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._paused_until: dict[str, float] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox")
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
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
                log.exception("outbox dispatch failed; retrying shortly")
                claimed = 0
            if claimed == 0 or self._free_slots() == 0:
                self._wake.wait(self._idle_wait())
                self._wake.clear()

    def _idle_wait(self) -> float:
        now = time.monotonic()
        pauses = [until - now for until in self._paused_until.values() if until > now]
        return max(0.01, min([self.poll_seconds, *pauses]))

    def _free_slots(self) -> int:
        with self._lock:
            return self.workers - len(self._inflight)

    # -- claiming -------------------------------------------------------------------------------------

    def dispatch(self) -> int:
        """Claim what can go now and hand it to the workers; returns how many were claimed."""
        free = self._free_slots()
        if free <= 0:
            return 0
        items = self.claim(free)
        for item in items:
            with self._lock:
                self._inflight.add(item.id or 0)
            self._pool.submit(self._deliver_and_release, item)
        return len(items)

    def claim(self, limit: int) -> list[OutboxMessage]:
        """Interactive messages (approvals, answers) first, then broadcasts: a directive to thousands of
        people must not keep an approver waiting, nor let a response_url expire."""
        items = self._claim(limit, broadcast=False)
        if len(items) < limit:
            items += self._claim(limit - len(items), broadcast=True)
        return items

    def _claim(self, limit: int, *, broadcast: bool) -> list[OutboxMessage]:
        now = self.clock()
        paused_kinds = [
            k for k, m in METHOD_OF_KIND.items() if self._paused_until.get(m, 0) > time.monotonic()
        ]
        busy_lanes = self._lanes_without_tokens()
        with self._lock:
            inflight = list(self._inflight)
        earlier = aliased(OutboxMessage)
        blocked_by_earlier = exists().where(
            earlier.lane == OutboxMessage.lane,
            earlier.id < OutboxMessage.id,
            col(earlier.status).in_(("pending", "sending")),
        )
        due = or_(
            and_(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= now),
            # A claim whose lease ran out: its worker died (or hung) mid-send.
            and_(OutboxMessage.status == "sending", col(OutboxMessage.claimed_until) < now),
        )
        kind = (
            col(OutboxMessage.group_key).is_not(None) if broadcast else col(OutboxMessage.group_key).is_(None)
        )
        query = select(OutboxMessage).where(kind, due, not_(blocked_by_earlier))
        if paused_kinds:
            query = query.where(col(OutboxMessage.kind).not_in(paused_kinds))
        if busy_lanes:
            query = query.where(col(OutboxMessage.lane).not_in(busy_lanes))
        if inflight:
            query = query.where(col(OutboxMessage.id).not_in(inflight))
        query = query.order_by(col(OutboxMessage.id)).limit(limit).with_for_update(skip_locked=True)
        with self.db.uow() as uow:
            items = list(uow.session.exec(query))
            for item in items:
                if item.status == "sending":
                    item.uncertain = True  # it may have been sent before its worker died
                item.status = "sending"
                item.claimed_by = self.worker_id
                item.claimed_until = now + self.lease
                item.attempts += 1
                uow.session.add(item)
            uow.commit()
        return items

    def _lanes_without_tokens(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [
                lane for lane, b in self._buckets.items() if b.tokens + (now - b.updated) * LANE_RATE < 1.0
            ]

    def _take_token(self, lane: str) -> None:
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(lane) or _Bucket(LANE_BURST, now)
            bucket.tokens = min(LANE_BURST, bucket.tokens + (now - bucket.updated) * LANE_RATE) - 1.0
            bucket.updated = now
            self._buckets[lane] = bucket
            if len(self._buckets) > 10_000:  # forget lanes that have refilled
                full = [
                    k
                    for k, b in self._buckets.items()
                    if b.tokens + (now - b.updated) * LANE_RATE >= LANE_BURST
                ]
                for key in full:
                    del self._buckets[key]

    # -- delivering -----------------------------------------------------------------------------------

    def _deliver_and_release(self, item: OutboxMessage) -> None:
        try:
            self.deliver(item)
        except Exception:
            log.exception("outbox item %s: unexpected failure", item.id)
            self._record_failure(item, Failure("transient", "internal", maybe_sent=True))
        finally:
            with self._lock:
                self._inflight.discard(item.id or 0)
            self._wake.set()

    def deliver(self, item: OutboxMessage) -> None:
        """Send one claimed row and record the outcome on it; never raises."""
        if "compose" in item.payload:
            composed = self._compose(item)
            if composed is None:
                return
            item.payload = {**item.payload, **composed}
        try:
            if item.kind == POST:
                self._post(item)
            elif item.kind == UPDATE:
                self._update(item)
            elif item.kind == RESPOND:
                self._respond(item)
            elif item.kind == HOME:
                self._publish_home(item)
            else:
                self._finish(item, "failed", error=f"unknown kind {item.kind}")
        except Exception as error:  # classified below: nothing here may kill the worker
            failure = classify(error)
            self._record_failure(item, failure, method=_method_of(error))

    def _compose(self, item: OutboxMessage) -> dict[str, Any] | None:
        """The composer's output for the row, or None once the failure has been recorded."""
        try:
            if self.composer is None:
                raise LookupError("no composer configured")
            return self.composer(item)
        except SQLAlchemyError as error:  # the database blinked: try again later
            self._record_failure(item, Failure("transient", f"compose: {type(error).__name__}"))
            return None
        except Exception as error:  # its subject is gone or a template is broken: retrying won't help
            log.exception("outbox item %s could not be composed", item.id)
            self._finish(item, "failed", error=f"could not compose the message: {type(error).__name__}")
            return None

    def _post(self, item: OutboxMessage) -> None:
        # Rows queued in bulk (queue_selected) carry no user_id: a DM's address is the person.
        person = item.user_id or (item.address if is_person(item.address) else None)
        if person:
            refusal = self._account_refusal(person, check=item.check_account)
            if refusal is not None:
                log.info("outbox item %s not sent: %s", item.id, refusal)
                self._finish(item, "failed", error=refusal)
                return
        self._send_post(item, item.address, item.payload, lane=item.lane)

    def _send_post(self, item: OutboxMessage, address: str, payload: dict[str, Any], *, lane: str) -> None:
        """chat.postMessage of `payload` to `address`, tagged with the row's id in message metadata; if
        an earlier attempt may have reached Slack, look for that tag first and only send if absent."""
        if item.uncertain:
            found = self._find_posted(item, address)
            if found is not None:
                log.info("outbox item %s was already delivered; not sending it again", item.id)
                self._finish(item, "sent", channel=found[0], ts=found[1])
                return
        if not self._renew(item):
            log.info("outbox item %s was taken over by another worker; leaving it to them", item.id)
            return
        self._take_token(lane)
        response = self.client.chat_postMessage(
            channel=address,
            text=payload["text"],
            blocks=payload.get("blocks"),
            metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": item.id}},
            unfurl_links=False,
            unfurl_media=False,
        )
        channel, ts = str(response["channel"]), str(response["ts"])
        self._finish(item, "sent", channel=channel, ts=ts)
        if address[:1] in ("U", "W") and channel.startswith("D"):
            self._remember_dm(address, channel)

    # -- people who left ------------------------------------------------------------------------------

    def _account_refusal(self, user_id: str, *, check: bool) -> str | None:
        """Why a DM to `user_id` must not be sent (`account_deactivated`, `user_not_found`), or None.

        Slack accepts messages to deactivated accounts (python-slack-sdk issue 1156), so this asks what
        Slack last said (`slack_account`, kept by the user_change event and by this check). With `check`,
        an answer older than ACCOUNT_CHECK_MAX_AGE, or none, is refreshed with users.info first; its
        rate limits and server errors propagate and the row is retried like any other.
        """
        with self.db.read() as session:
            known = session.get(SlackAccount, user_id)
        if check and (known is None or self.clock() - known.checked_at > ACCOUNT_CHECK_MAX_AGE):
            try:
                response = self.client.users_info(user=user_id)
            except SlackApiError as error:
                if error_code(error) == "user_not_found":
                    return "user_not_found"
                raise
            deleted = bool((response.get("user") or {}).get("deleted"))
            self._record_account(user_id, deleted)
            return ACCOUNT_DEACTIVATED if deleted else None
        if known is not None and known.deleted:
            return ACCOUNT_DEACTIVATED
        return None

    def _record_account(self, user_id: str, deleted: bool) -> None:
        """Upsert what users.info said; `changed_at` moves only when the deleted flag changes."""
        now = self.clock()
        with self.db.uow() as uow:
            accounts.record(uow.session, user_id, deleted=deleted, now=now)
            uow.commit()

    # -- App Home -------------------------------------------------------------------------------------

    def _publish_home(self, item: OutboxMessage) -> None:
        """views.publish of the freshly rendered Home tab, guarded by the hash of the last one we
        published. A `hash_conflict` means someone published in between (another replica answering
        app_home_opened): this row's view was rendered from current state, so render once more and
        publish without the stale hash."""
        user_id = item.address
        view = item.payload.get("view")
        if not isinstance(view, dict):
            self._finish(item, "failed", error="could not compose the message: no view")
            return
        with self.db.read() as session:
            known = session.get(HomeTab, user_id)
        try:
            if known is not None and known.view_hash:
                response = self.client.views_publish(user_id=user_id, view=view, hash=known.view_hash)
            else:
                response = self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            if error_code(error) != "hash_conflict":
                raise
            log.info("outbox item %s: Home tab changed since our last publish; rendering it again", item.id)
            fresh = self._compose(item)
            if fresh is None:
                return
            if not isinstance(fresh.get("view"), dict):
                self._finish(item, "failed", error="could not compose the message: no view")
                return
            response = self.client.views_publish(user_id=user_id, view=fresh["view"])
        published = response.get("view") or {}
        now = self.clock()
        with self.db.uow() as uow:
            accounts.record_home(uow.session, user_id, view_hash=published.get("hash"), now=now)
            uow.commit()
        self._finish(item, "sent")

    def _update(self, item: OutboxMessage) -> None:
        with self.db.read() as session:
            original = session.get(OutboxMessage, item.ref_id) if item.ref_id else None
        if original is None or original.status == "failed":
            self._finish(item, "failed", error="the message to update was never delivered")
            return
        if original.status != "sent" or not original.sent_channel or not original.sent_ts:
            # Lane order makes this rare (the post goes first); try again shortly.
            self._retry(item, 1.0, "waiting for the original message", uncertain=False, count_attempt=False)
            return
        payload = item.payload
        self.client.chat_update(
            channel=original.sent_channel,
            ts=original.sent_ts,
            text=payload["text"],
            blocks=payload.get("blocks"),
        )
        self._finish(item, "sent", channel=original.sent_channel, ts=original.sent_ts)

    def _respond(self, item: OutboxMessage) -> None:
        """Reply through the response_url; once it is older than 30 minutes, or Slack answers that it is
        expired, used up or unknown, send the same message to `item.user_id` by DM instead (without a
        user_id the row fails, as there is nobody to send it to)."""
        if item.user_id and self.clock() - item.created_at >= RESPONSE_URL_LIFETIME:
            log.info("outbox item %s: response_url too old; sending the reply by DM", item.id)
            self._respond_by_dm(item)
            return
        webhook = WebhookClient(item.address, timeout=int(max(1, self.timeout)), retry_handlers=[])
        response = webhook.send_dict(item.payload)
        failure = classify_http(response.status_code, response.body or "", response.headers)
        if failure is None:
            self._finish(item, "sent")
            return
        if (
            failure.kind == "permanent"
            and item.user_id
            and response_url_gone(response.status_code, response.body or "")
        ):
            log.info(
                "outbox item %s: response_url refused (%s); sending the reply by DM", item.id, failure.error
            )
            self._respond_by_dm(item)
            return
        self._record_failure(item, failure, method=METHOD_OF_KIND[RESPOND])

    def _respond_by_dm(self, item: OutboxMessage) -> None:
        user_id = item.user_id or ""
        refusal = self._account_refusal(user_id, check=False)
        if refusal is not None:
            self._finish(item, "failed", error=refusal)
            return
        # Only the message: response_type and replace_original mean nothing in a DM.
        payload = {key: item.payload[key] for key in ("text", "blocks") if key in item.payload}
        self._send_post(item, user_id, payload, lane=user_id)

    def _find_posted(self, item: OutboxMessage, address: str) -> tuple[str, str] | None:
        """Look for this item's metadata in the recent history of `address` (a channel, or a person's
        DM). Rate limits and server errors propagate (the item stays uncertain and is tried again); when
        the history cannot be read at all, the message is sent again rather than risk losing it."""
        try:
            channel = self._channel_for(address)
            if channel is None:
                return None
            return self._search_history(item, channel)
        except SlackApiError as error:
            failure = classify(error)
            if failure.kind != "permanent":
                raise
            log.warning("outbox item %s: cannot read history (%s); sending it again", item.id, failure.error)
            return None

    def _search_history(self, item: OutboxMessage, channel: str) -> tuple[str, str] | None:
        oldest = (item.created_at - timedelta(minutes=1)).timestamp()
        # Stay well inside the lease: another worker may take the item over once it runs out.
        deadline = time.monotonic() + self.lease.total_seconds() / 3
        cursor = None
        joined = False
        for _ in range(10):  # at most 10 pages (2,000 messages) of recent history
            if time.monotonic() > deadline:  # not known either way: keep the doubt and look again later
                raise TimeoutError("history lookup ran out of time")
            try:
                response = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            except SlackApiError as error:
                # The bot may post in public channels without being a member, but reads only as one.
                if joined or (error.response.data or {}).get("error") != "not_in_channel":
                    raise
                self.client.conversations_join(channel=channel)
                joined = True
                continue
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and (metadata.get("event_payload") or {}).get("outbox_id") == item.id
                ):
                    return channel, str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
        return None

    def _channel_for(self, address: str) -> str | None:
        if address[:1] not in ("U", "W"):
            return address
        with self.db.read() as session:
            known = session.get(DmChannel, address)
        if known is not None:
            return known.channel_id
        opened = self.client.conversations_open(users=address)
        channel = str((opened.get("channel") or {}).get("id") or "")
        if channel:
            self._remember_dm(address, channel)
        return channel or None

    def _remember_dm(self, user_id: str, channel_id: str) -> None:
        try:
            with self.db.uow() as uow:
                row = uow.session.get(DmChannel, user_id)
                if row is None:
                    uow.session.add(DmChannel(user_id=user_id, channel_id=channel_id))
                elif row.channel_id != channel_id:
                    row.channel_id = channel_id
                    uow.session.add(row)
                else:
                    return
                uow.commit()
        except Exception:  # a cache: losing a race to another worker is fine
            log.debug("dm channel cache write skipped", exc_info=True)

    # -- recording results ----------------------------------------------------------------------------

    def _record_failure(self, item: OutboxMessage, failure: Failure, *, method: str | None = None) -> None:
        """Retry, pause or fail the row. `method` is the Web API method that failed (the one a rate
        limit pauses); by default the one the row's kind calls."""
        method = method or METHOD_OF_KIND.get(item.kind, item.kind)
        if failure.kind == "rate_limited":
            wait = failure.retry_after or 1.0
            self._paused_until[method] = max(self._paused_until.get(method, 0), time.monotonic() + wait)
            log.info("%s rate limited; pausing it for %.1fs", method, wait)
            # Keep `uncertain`: a rate-limited look-up in history has not cleared the doubt.
            self._retry(item, wait, failure.error, uncertain=item.uncertain, count_attempt=False)
            return
        if failure.kind == "permanent":
            log.warning("outbox item %s failed permanently: %s", item.id, failure.error)
            self._finish(item, "failed", error=failure.error)
            return
        if item.attempts >= MAX_ATTEMPTS:
            log.warning("outbox item %s gave up after %s attempts: %s", item.id, item.attempts, failure.error)
            self._finish(item, "failed", error=f"gave up after {item.attempts} attempts: {failure.error}")
            return
        backoff = min(MAX_BACKOFF, 2.0 ** max(0, item.attempts - 1)) * random.uniform(0.8, 1.2)
        log.info("outbox item %s: %s; trying again in %.1fs", item.id, failure.error[:80], backoff)
        self._retry(item, backoff, failure.error, uncertain=failure.maybe_sent or item.uncertain)

    def _retry(
        self, item: OutboxMessage, delay: float, error: str, *, uncertain: bool, count_attempt: bool = True
    ) -> None:
        values: dict[str, Any] = {
            "status": "pending",
            "next_attempt_at": self.clock() + timedelta(seconds=delay),
            "claimed_until": None,
            "claimed_by": None,
            "last_error": error,
            "uncertain": uncertain,
        }
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        self._write(item, values)

    def _finish(
        self,
        item: OutboxMessage,
        status: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
        if status == "sent":
            values.update(sent_at=self.clock(), sent_channel=channel, sent_ts=ts, uncertain=False)
        self._write(item, values)

    def _renew(self, item: OutboxMessage) -> bool:
        """Extend this worker's claim just before sending; False if another worker owns the item now."""
        with self.db.uow() as uow:
            result = uow.session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == item.id,
                    col(OutboxMessage.claimed_by) == self.worker_id,
                    OutboxMessage.status == "sending",
                )
                .values(claimed_until=self.clock() + self.lease)
            )  # type: ignore[call-overload]
            uow.commit()
        return bool(result.rowcount)

    def _write(self, item: OutboxMessage, values: dict[str, Any]) -> None:
        # Only while this worker still holds the claim: if the lease ran out and another worker took
        # the item over, that worker's result is the one that counts.
        with self.db.uow() as uow:
            uow.session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == item.id, col(OutboxMessage.claimed_by) == self.worker_id)
                .values(**values)
            )  # type: ignore[call-overload]
            uow.commit()

    # -- for the CLI and tests --------------------------------------------------------------------------

    def drain(self, timeout: float = 30.0) -> bool:
        """Deliver everything due, in this thread's control; True when nothing is left pending."""
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
        with self.db.read() as session:
            return len(
                session.exec(
                    select(OutboxMessage.id).where(col(OutboxMessage.status).in_(("pending", "sending")))
                ).all()
            )


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


__all__ = [
    "ACCOUNT_CHECK_MAX_AGE",
    "ACCOUNT_DEACTIVATED",
    "METADATA_EVENT",
    "METHOD_OF_KIND",
    "RESPONSE_URL_LIFETIME",
    "Sender",
    "SlackApiError",
    "sender_client",
]
