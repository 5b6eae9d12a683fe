"""Writing to the outbox. Call these inside the service's transaction: the message is then sent if and
only if the state change it reports is committed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, insert, literal
from sqlmodel import Session, col, select

from bot.store import audit
from bot.store.db import OUTBOX_QUEUED, Database, now_of
from bot.store.tables import HomeTab, OutboxMessage
from bot.store.types import UTCDateTime

POST = "post"
UPDATE = "update"
RESPOND = "respond"
# Publish a person's App Home tab, rendered from the state at the moment it is sent.
HOME = "home"


def _queue(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    session.info[OUTBOX_QUEUED] = True
    return message


def post(
    session: Session,
    address: str,
    message: dict[str, Any],
    *,
    group_key: str | None = None,
    check_account: bool = False,
) -> OutboxMessage:
    """A new message to a channel (C…/G…) or to a person's DM (their user ID). `check_account`: ask Slack
    whether the person's account is still active before sending (approval requests)."""
    row = _queue(
        session,
        OutboxMessage(
            kind=POST,
            lane=address,
            address=address,
            payload=_message_payload(message),
            group_key=group_key,
            next_attempt_at=now_of(session),
            user_id=address if is_person(address) else None,
            check_account=check_account,
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
            next_attempt_at=now_of(session),
        ),
    )


def respond(
    session: Session,
    response_url: str,
    message: dict[str, Any],
    *,
    user_id: str | None,
    replace_original: bool = False,
) -> OutboxMessage:
    """An ephemeral reply through a slash command's or button's response_url. Slack lets a response_url
    be used 5 times within 30 minutes; past that the reply goes to `user_id` by DM instead of being
    dropped."""
    payload = _message_payload(message)
    payload["response_type"] = "ephemeral"
    payload["replace_original"] = replace_original
    lane = "url:" + hashlib.sha256(response_url.encode()).hexdigest()[:40]
    return _queue(
        session,
        OutboxMessage(
            kind=RESPOND,
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
    wanted = sorted(set(user_ids))
    if not wanted:
        return
    known = session.exec(select(HomeTab.user_id).where(col(HomeTab.user_id).in_(wanted))).all()
    for user_id in known:
        _queue(
            session,
            OutboxMessage(
                kind=HOME,
                lane=f"home:{user_id}",
                address=user_id,
                payload={"compose": "home"},
                next_attempt_at=now_of(session),
                user_id=user_id,
            ),
        )


def is_person(address: str) -> bool:
    """Whether an outbox address is a person (their DM) rather than a channel: Slack user IDs start with U
    or W, channel IDs with C, G or D."""
    return address[:1] in ("U", "W")


def _message_payload(message: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": message["text"]}
    if message.get("blocks"):
        payload["blocks"] = message["blocks"]
    return payload


def describe(row: OutboxMessage) -> dict[str, Any]:
    """The stable JSON shape of an outbox row for `accessbot outbox list --json` (no message bodies:
    they can hold personal data)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "to": "response_url" if row.kind == RESPOND else row.address,
        "status": row.status,
        "attempts": row.attempts,
        "group": row.group_key,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


def recent(session: Session, status: str | None, limit: int) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.exec(query))


def requeue_failed(db: Database, ids: list[int], *, actor: str) -> list[int]:
    """Send failed messages again, e.g. after the bot was invited to a private channel."""
    with db.uow() as uow:
        rows = list(
            uow.session.exec(
                select(OutboxMessage).where(col(OutboxMessage.id).in_(ids), OutboxMessage.status == "failed")
            )
        )
        for row in rows:
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = now_of(uow.session)
            row.last_error = None
            uow.session.add(row)
            audit.record(
                uow.session,
                actor=actor,
                action="outbox.requeued",
                subject_type="outbox",
                subject_id=row.id or 0,
            )
        uow.session.info[OUTBOX_QUEUED] = True
        uow.commit()
    return [row.id or 0 for row in rows]


_BULK_COLUMNS = (
    "kind", "lane", "address", "ref_id", "payload", "group_key", "status", "attempts", "uncertain",
    "next_attempt_at", "created_at", "check_account",
)  # fmt: skip


def queue_selected(
    session: Session,
    kind: str,
    rows: Any,
    payload: dict[str, Any],
    *,
    now: datetime,
    group_key: str | None = None,
) -> None:
    """Queue one message per row of `rows` (a SELECT of `lane`, `address` and `ref_id` columns, and
    optionally a boolean `check_account`: ask Slack about the person before sending) in a single
    INSERT … SELECT, for broadcasts of any size. The payload is the same for every row, so it names a
    composer (`{"compose": ...}`) that builds each message when it is sent."""
    source = rows.subquery()
    check_account = source.c.check_account if "check_account" in source.c else literal(False, Boolean)
    session.exec(  # type: ignore[call-overload]
        insert(OutboxMessage).from_select(
            list(_BULK_COLUMNS),
            select(
                literal(kind, String),
                source.c.lane,
                source.c.address,
                source.c.ref_id,
                literal(payload, JSON),
                literal(group_key, String),
                literal("pending", String),
                literal(0, Integer),
                literal(False, Boolean),
                literal(now, UTCDateTime),
                literal(now, UTCDateTime),
                check_account,
            ).order_by(source.c.lane),
        )
    )
    session.info[OUTBOX_QUEUED] = True
