"""Writing to the outbox. Call these inside the service's transaction: the message is then sent if and
only if the state change it reports is committed."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from bot.store.db import OUTBOX_QUEUED
from bot.store.tables import OutboxMessage
from bot.store.types import utcnow

POST = "post"
UPDATE = "update"
RESPOND = "respond"


def _queue(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    session.info[OUTBOX_QUEUED] = True
    return message


def post(
    session: Session, address: str, message: dict[str, Any], *, group_key: str | None = None
) -> OutboxMessage:
    """A new message to a channel (C…/G…) or to a person's DM (their user ID)."""
    row = _queue(
        session,
        OutboxMessage(
            kind=POST,
            lane=address,
            address=address,
            payload=_message_payload(message),
            group_key=group_key,
            next_attempt_at=utcnow(),
        ),
    )
    session.flush()  # the id is needed by callers that remember which message to update later
    return row


def update(session: Session, original: OutboxMessage, message: dict[str, Any]) -> OutboxMessage:
    """Replace the content of a message queued earlier with post(); delivered after it, in its lane."""
    return _queue(
        session,
        OutboxMessage(
            kind=UPDATE,
            lane=original.lane,
            address=original.address,
            payload=_message_payload(message),
            ref_id=original.id,
            group_key=original.group_key,
            next_attempt_at=utcnow(),
        ),
    )


def respond(
    session: Session, response_url: str, message: dict[str, Any], *, replace_original: bool = False
) -> OutboxMessage:
    """An ephemeral reply through a slash command's or button's response_url."""
    payload = _message_payload(message)
    payload["response_type"] = "ephemeral"
    payload["replace_original"] = replace_original
    lane = "url:" + hashlib.sha256(response_url.encode()).hexdigest()[:40]
    return _queue(
        session,
        OutboxMessage(
            kind=RESPOND, lane=lane, address=response_url, payload=payload, next_attempt_at=utcnow()
        ),
    )


def _message_payload(message: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": message["text"]}
    if message.get("blocks"):
        payload["blocks"] = message["blocks"]
    return payload
