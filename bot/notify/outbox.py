"""Writing to the outbox. Call these inside the service's transaction: the message is then sent if and
only if the state change it reports is committed. A message is queued as data (a Notice, or a template
and its data: bot/present/replies.py) and rendered by the notifier when it is sent
(bot/notify/compose.py). The table's other queries (claiming, lists, counts, requeueing) are in
bot/store/outbox.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.domain.recipient import Recipient, RecipientKind
from bot.domain.status import OutboxKind
from bot.present.replies import Reply, to_stored
from bot.store import outbox as rows
from bot.store import slack_state
from bot.store.db import OUTBOX_QUEUED, now_of
from bot.store.tables import OutboxMessage


def _queue(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    session.info[OUTBOX_QUEUED] = True
    return message


def post(
    session: Session,
    address: str,
    message: Reply,
    *,
    group_key: str | None = None,
    check_account: bool = False,
    flush: bool = True,
) -> OutboxMessage:
    """A new message to a channel (C…/G…) or to a person's DM (their user ID). `check_account`: ask Slack
    whether the person's account is still active before sending (approval requests). The row is flushed
    so that its id is known, unless `flush` is False: a caller queuing several flushes them at once
    (one INSERT for all)."""
    recipient = Recipient.of(address)
    row = _queue(
        session,
        OutboxMessage(
            kind=OutboxKind.POST,
            lane=address,
            address=address,
            payload=to_stored(message),
            group_key=group_key,
            next_attempt_at=now_of(session),
            user_id=address if recipient.is_person else None,
            check_account=check_account,
        ),
    )
    if flush:
        session.flush()  # the id is needed by callers that remember which message to update later
    return row


def update(session: Session, original: OutboxMessage, message: Reply) -> OutboxMessage:
    """Replace the content of a message queued earlier with post(); delivered after it, in its lane."""
    return _following(session, original, OutboxKind.UPDATE, message)


def reply_in_thread(session: Session, original: OutboxMessage, message: Reply) -> OutboxMessage:
    """A reply in the thread of a message queued earlier with post() (a reminder under an approval
    request), shown in the conversation too so that its reader is notified; delivered after it, in its
    lane."""
    return _following(session, original, OutboxKind.POST, message, user_id=original.user_id)


def _following(
    session: Session, original: OutboxMessage, kind: OutboxKind, message: Reply, *, user_id: str | None = None
) -> OutboxMessage:
    """A row about `original` (its ref_id): in its lane, to its address, in its group."""
    return _queue(
        session,
        OutboxMessage(
            kind=kind,
            lane=original.lane,
            address=original.address,
            payload=to_stored(message),
            ref_id=original.id,
            group_key=original.group_key,
            next_attempt_at=now_of(session),
            user_id=user_id,
        ),
    )


def respond(
    session: Session,
    response_url: str,
    message: Reply,
    *,
    user_id: str | None,
    replace_original: bool = False,
) -> OutboxMessage:
    """An ephemeral reply through a slash command's or button's response_url. Slack lets a response_url
    be used 5 times within 30 minutes; past that the reply goes to `user_id` by DM instead of being
    dropped."""
    payload = to_stored(message)
    payload["response_type"] = "ephemeral"
    payload["replace_original"] = replace_original
    lane = "url:" + hashlib.sha256(response_url.encode()).hexdigest()[:40]
    return _queue(
        session,
        OutboxMessage(
            kind=OutboxKind.RESPOND,
            lane=lane,
            address=response_url,
            payload=payload,
            next_attempt_at=now_of(session),
            user_id=user_id,
        ),
    )


def refresh_homes(session: Session, user_ids: Iterable[str]) -> None:
    """Queue a fresh App Home for each of these people who has opened it before. The view is rendered
    when it is sent (payload `{"compose": "home"}`), and rows of one person's `home:` lane are sent in
    order, so a slower, older publish can never overwrite a newer one."""
    for user_id in slack_state.home_openers(session, user_ids):
        _queue(
            session,
            OutboxMessage(
                kind=OutboxKind.HOME,
                lane=f"home:{user_id}",
                address=user_id,
                payload={"compose": "home"},
                next_attempt_at=now_of(session),
                user_id=user_id,
            ),
        )


def queue_selected(
    session: Session,
    kind: str,
    selected: Any,
    payload: dict[str, Any],
    *,
    now: datetime,
    group_key: str | None = None,
) -> None:
    """Queue one message per row of `selected` (a SELECT of `lane`, `address` and `ref_id` columns, and
    optionally a boolean `check_account`: ask Slack about the person before sending) in a single
    INSERT … SELECT, for broadcasts of any size. The payload is the same for every row, so it names a
    composer (`{"compose": ...}`, see bot/notify/compose.py) that builds each message when it is sent."""
    rows.insert_selected(session, kind, selected, payload, now=now, group_key=group_key)


def describe(row: OutboxMessage) -> dict[str, Any]:
    """The stable JSON shape of an outbox row for `accessbot outbox list --json` (no message bodies:
    they can hold personal data)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "to": RecipientKind.RESPONSE_URL.value if row.kind == OutboxKind.RESPOND else row.address,
        "status": row.status,
        "attempts": row.attempts,
        "group": row.group_key,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }
