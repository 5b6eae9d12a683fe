"""The Slack call of each outbox kind, for one claimed row, returning what happened; the sender
(bot/notify/sender.py) records it on the row.

- post: chat.postMessage tagged with the row's id in message metadata; when an earlier attempt may have
  reached Slack, the post is looked for in history first (bot/notify/history.py). A DM is not sent to
  a deactivated account (bot/notify/accounts.py).
- update: chat.update of the post the row refers to, once that post is delivered.
- respond: the response_url (5 uses within 30 minutes); once it is too old, or Slack refuses it as
  expired or used up, the same message goes to the person by DM.
- home: views.publish of the App Home composed at send time, passing the hash of the view last
  published so that Slack refuses to overwrite a newer one; on `hash_conflict` the view is composed
  again and published without the stale hash.

Every row's message is rendered by the composer (bot/notify/compose.py) just before the call; rows
queued by earlier versions with a rendered message (`{"text", "blocks"}`) are sent as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.recipient import Recipient, is_dm_channel
from bot.domain.status import OutboxKind, OutboxStatus
from bot.notify.accounts import AccountChecks
from bot.notify.history import History, metadata_of
from bot.notify.slack_errors import Failure, classify_http, error_code, response_url_gone
from bot.store import accounts, slack_state
from bot.store import outbox as rows
from bot.store.db import Database
from bot.store.tables import OutboxMessage

log = logging.getLogger(__name__)

# The Web API method each kind of row calls, paused as a whole when Slack rate-limits it.
METHOD_OF_KIND: dict[str, str] = {
    OutboxKind.POST: "chat.postMessage",
    OutboxKind.UPDATE: "chat.update",
    OutboxKind.RESPOND: "response_url",
    OutboxKind.HOME: "views.publish",
}
# Slack: a response_url works "up to 5 times within 30 minutes" of the interaction.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
NO_VIEW = "could not compose the message: no view"

ComposeFn = Callable[[OutboxMessage], dict[str, Any]]
# What a response_url takes: the message and how to show it (Slack: "Handling user interaction").
_REPLY_KEYS = ("text", "blocks", "response_type", "replace_original")


# -- what an attempt came to ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """Delivered; `channel` and `ts` name the message for posts and updates."""

    channel: str | None = None
    ts: str | None = None


@dataclass(frozen=True)
class Refused:
    """Not sent, and sending again would not help: the row fails with `error`."""

    error: str


@dataclass(frozen=True)
class NotYet:
    """Cannot go yet (an update whose post is still on its way): try again in `delay` seconds without
    counting an attempt."""

    delay: float
    reason: str


@dataclass(frozen=True)
class Trouble:
    """A classified failure of `method` (None: the row kind's method): retried, paused or failed by
    the sender according to its kind."""

    failure: Failure
    method: str | None = None


# None: another worker holds the row now; its result is the one that counts.
Outcome = Sent | Refused | NotYet | Trouble | None


class Delivery:
    """Sends claimed rows. `renew(row)` extends the sender's claim just before a post and says whether
    it still holds the row; `take_token(lane)` paces posts (per lane, and per workspace)."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        clock: Callable[[], datetime],
        timeout: float,
        history: History,
        account_checks: AccountChecks,
        composer: ComposeFn,
        renew: Callable[[OutboxMessage], bool],
        take_token: Callable[[str], None],
    ):
        self.db = db
        self.client = client
        self.clock = clock
        self.timeout = timeout
        self.history = history
        self.account_checks = account_checks
        self.composer = composer
        self.renew = renew
        self.take_token = take_token

    def deliver(self, item: OutboxMessage) -> Outcome:
        """Send one claimed row. Slack's and the network's errors propagate for the caller to classify;
        a row the composer cannot build comes back as Refused (or Trouble if the database blinked)."""
        if "template" in item.payload or "compose" in item.payload:
            composed = self.compose(item)
            if not isinstance(composed, dict):
                return composed
            item.payload = {**item.payload, **composed}
        if item.kind == OutboxKind.POST:
            return self._post(item)
        if item.kind == OutboxKind.UPDATE:
            return self._update(item)
        if item.kind == OutboxKind.RESPOND:
            return self._respond(item)
        if item.kind == OutboxKind.HOME:
            return self._publish_home(item)
        return Refused(f"unknown kind {item.kind}")

    def compose(self, item: OutboxMessage) -> dict[str, Any] | Refused | Trouble:
        """The composer's message for the row; Trouble when the database failed (try again later),
        Refused when its subject is gone or a template is broken (retrying won't help)."""
        try:
            return self.composer(item)
        except SQLAlchemyError as error:
            return Trouble(Failure("transient", f"compose: {type(error).__name__}"))
        except Exception as error:
            log.exception("outbox item %s could not be composed", item.id)
            return Refused(f"could not compose the message: {type(error).__name__}")

    # -- posts ---------------------------------------------------------------------------------------------

    def _post(self, item: OutboxMessage) -> Outcome:
        # Rows queued in bulk (queue_selected) carry no user_id: a DM's address is the person.
        recipient = Recipient.of(item.address)
        person = item.user_id or (item.address if recipient.is_person else None)
        if person:
            refusal = self.account_checks.refusal(person, check=item.check_account)
            if refusal is not None:
                log.info("outbox item %s not sent: %s", item.id, refusal)
                return Refused(refusal)
        if item.ref_id is not None:
            return self._post_in_thread(item)
        return self._send_post(item, item.address, item.payload, lane=item.lane)

    def _post_in_thread(self, item: OutboxMessage) -> Outcome:
        """A reply in the thread of the message the row refers to (outbox.reply_in_thread), also shown in
        the conversation (reply_broadcast) so that its reader is notified. Once that message is known to
        have failed, the reply is posted on its own rather than lost."""
        with self.db.read() as session:
            original = rows.find(session, item.ref_id) if item.ref_id else None
        if original is None or original.status == OutboxStatus.FAILED:
            return self._send_post(item, item.address, item.payload, lane=item.lane)
        if original.status != OutboxStatus.SENT or not original.sent_channel or not original.sent_ts:
            return NotYet(1.0, "waiting for the message to reply to")
        thread = {"thread_ts": original.sent_ts, "reply_broadcast": True}
        return self._send_post(item, original.sent_channel, item.payload, lane=item.lane, thread=thread)

    def _send_post(
        self,
        item: OutboxMessage,
        address: str,
        payload: dict[str, Any],
        *,
        lane: str,
        thread: dict[str, Any] | None = None,
    ) -> Outcome:
        """chat.postMessage of `payload` to `address` (in a thread: `thread` holds thread_ts and
        reply_broadcast), tagged with the row's id in message metadata; if an earlier attempt may have
        reached Slack, look for that tag first and only send if absent (a broadcast reply is in the
        conversation's history too)."""
        if item.uncertain:
            found = self.history.find_posted(item, address)
            if found is not None:
                log.info("outbox item %s was already delivered; not sending it again", item.id)
                return Sent(*found)
        # Paced before the claim is renewed: a wait for the post's slot never eats into the lease.
        self.take_token(lane)
        if not self.renew(item):
            log.info("outbox item %s was taken over by another worker; leaving it to them", item.id)
            return None
        response = self.client.chat_postMessage(
            channel=address,
            text=payload["text"],
            blocks=payload.get("blocks"),
            metadata=metadata_of(item),
            unfurl_links=False,
            unfurl_media=False,
            **(thread or {}),
        )
        channel, ts = str(response["channel"]), str(response["ts"])
        if Recipient.of(address).is_person and is_dm_channel(channel):
            self.history.remember_dm(address, channel)
        return Sent(channel, ts)

    def _update(self, item: OutboxMessage) -> Outcome:
        with self.db.read() as session:
            original = rows.find(session, item.ref_id) if item.ref_id else None
        if original is None or original.status == OutboxStatus.FAILED:
            return Refused("the message to update was never delivered")
        if original.status != OutboxStatus.SENT or not original.sent_channel or not original.sent_ts:
            # Lane order makes this rare (the post goes first); try again shortly.
            return NotYet(1.0, "waiting for the original message")
        payload = item.payload
        self.client.chat_update(
            channel=original.sent_channel,
            ts=original.sent_ts,
            text=payload["text"],
            blocks=payload.get("blocks"),
        )
        return Sent(original.sent_channel, original.sent_ts)

    # -- replies through a response_url -----------------------------------------------------------------

    def _respond(self, item: OutboxMessage) -> Outcome:
        """Reply through the response_url; once it is older than 30 minutes, or Slack answers that it is
        expired, used up or unknown, send the same message to `item.user_id` by DM instead (without a
        user_id the row fails, as there is nobody to send it to)."""
        if item.user_id and self.clock() - item.created_at >= RESPONSE_URL_LIFETIME:
            log.info("outbox item %s: response_url too old; sending the reply by DM", item.id)
            return self._respond_by_dm(item)
        webhook = WebhookClient(item.address, timeout=int(max(1, self.timeout)), retry_handlers=[])
        response = webhook.send_dict({key: item.payload[key] for key in _REPLY_KEYS if key in item.payload})
        failure = classify_http(response.status_code, response.body or "", response.headers)
        if failure is None:
            return Sent()
        if (
            failure.kind == "permanent"
            and item.user_id
            and response_url_gone(response.status_code, response.body or "")
        ):
            log.info(
                "outbox item %s: response_url refused (%s); sending the reply by DM", item.id, failure.error
            )
            return self._respond_by_dm(item)
        return Trouble(failure, METHOD_OF_KIND[OutboxKind.RESPOND])

    def _respond_by_dm(self, item: OutboxMessage) -> Outcome:
        user_id = item.user_id or ""
        refusal = self.account_checks.refusal(user_id, check=False)
        if refusal is not None:
            return Refused(refusal)
        # Only the message: response_type and replace_original mean nothing in a DM.
        payload = {key: item.payload[key] for key in ("text", "blocks") if key in item.payload}
        return self._send_post(item, user_id, payload, lane=user_id)

    # -- App Home --------------------------------------------------------------------------------------------

    def _publish_home(self, item: OutboxMessage) -> Outcome:
        """views.publish of the freshly composed Home tab, guarded by the hash of the last one we
        published. A `hash_conflict` means someone published in between (another replica answering
        app_home_opened): this row's view was composed from current state, so compose once more and
        publish without the stale hash."""
        user_id = item.address
        view = item.payload.get("view")
        if not isinstance(view, dict):
            return Refused(NO_VIEW)
        with self.db.read() as session:
            known_hash = slack_state.home_view_hash(session, user_id)
        try:
            if known_hash:
                response = self.client.views_publish(user_id=user_id, view=view, hash=known_hash)
            else:
                response = self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            if error_code(error) != "hash_conflict":
                raise
            log.info("outbox item %s: Home tab changed since our last publish; rendering it again", item.id)
            fresh = self.compose(item)
            if not isinstance(fresh, dict):
                return fresh
            if not isinstance(fresh.get("view"), dict):
                return Refused(NO_VIEW)
            response = self.client.views_publish(user_id=user_id, view=fresh["view"])
        published = response.get("view") or {}
        now = self.clock()
        with self.db.uow() as uow:
            accounts.record_home(uow.session, user_id, view_hash=published.get("hash"), now=now)
            uow.commit()
        return Sent()
