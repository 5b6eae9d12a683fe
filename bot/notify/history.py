"""Before a post is sent again after an attempt that may have reached Slack (a timeout, a 5xx, a crash
while `sending`), look for it: every post carries its outbox id in message metadata, and the recent
history of its channel (or of the person's DM) says whether it arrived."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.recipient import Recipient
from bot.notify.slack_errors import classify, error_code
from bot.store import slack_state
from bot.store.db import Database
from bot.store.tables import OutboxMessage

log = logging.getLogger(__name__)

# The metadata event type of every post the sender makes; its payload is `{"outbox_id": <row id>}`.
METADATA_EVENT = "accessbot_outbox"
MAX_PAGES = 10  # of 200 messages: the 2,000 most recent messages since the row was queued
SEARCH_SECONDS = 20.0  # at least, for the look-up of one row, whatever the lease


def metadata_of(item: OutboxMessage) -> dict[str, object]:
    """The message metadata that tags a post with its outbox row."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": item.id}}


class History:
    """Finds earlier deliveries of a row in conversations.history, and keeps the DM channel of each
    person (learnt from a post's answer, or from conversations.open)."""

    def __init__(self, db: Database, client: WebClient, lease: timedelta):
        self.db = db
        self.client = client
        self.lease = lease

    def find_posted(self, item: OutboxMessage, address: str) -> tuple[str, str] | None:
        """(channel, ts) of this row's post in the recent history of `address` (a channel, or a
        person's DM), or None. Rate limits and server errors propagate (the item stays uncertain and is
        tried again); when the history cannot be read at all, None: the message is sent again rather
        than risk losing it."""
        try:
            channel = self._channel_for(address)
            if channel is None:
                return None
            return self._search(item, channel)
        except SlackApiError as error:
            failure = classify(error)
            if failure.kind != "permanent":
                raise
            log.warning("outbox item %s: cannot read history (%s); sending it again", item.id, failure.error)
            return None

    def _search(self, item: OutboxMessage, channel: str) -> tuple[str, str] | None:
        oldest = (item.created_at - timedelta(minutes=1)).timestamp()
        # The heartbeat (bot/notify/heartbeat.py) keeps the claim while the search runs; the bound keeps a
        # slow history from holding the row's lane for long.
        deadline = time.monotonic() + max(SEARCH_SECONDS, self.lease.total_seconds() / 3)
        cursor = None
        joined = False
        for _ in range(MAX_PAGES):
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
                if joined or error_code(error) != "not_in_channel":
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
        recipient = Recipient.of(address)
        if not recipient.is_person:
            return address
        with self.db.read() as session:
            known = slack_state.dm_channel(session, address)
        if known is not None:
            return known
        opened = self.client.conversations_open(users=address)
        channel = str((opened.get("channel") or {}).get("id") or "")
        if channel:
            self.remember_dm(address, channel)
        return channel or None

    def remember_dm(self, user_id: str, channel_id: str) -> None:
        """Cache the person's DM channel; losing a race to another worker is fine."""
        try:
            with self.db.uow() as uow:
                if slack_state.remember_dm(uow.session, user_id, channel_id):
                    uow.commit()
        except Exception:  # a cache: not worth failing a delivery over
            log.debug("dm channel cache write skipped", exc_info=True)
