"""Webhook events and deliveries: written in the transaction of the change they report, set-based for
bulk changes, claimed by the webhook sender (bot/notify/webhooks.py) under the rules of claims.py.

Which receivers an event type goes to travels with the transaction (`session.info[WEBHOOK_ROUTES]`, set by
the Database from workflows/webhooks.yaml): an event nobody subscribes to is not recorded at all, so
bulk changes cost nothing extra without receivers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, Integer, String, case, cast, func, insert, literal, null
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.entitlement import NOT_ON_FILE
from bot.domain.status import OutboxStatus
from bot.domain.webhooks import GRANT_SUSPENDED, Routes
from bot.store import claims
from bot.store.db import OUTBOX_QUEUED, WEBHOOK_ROUTES
from bot.store.directory import chunks
from bot.store.tables import AccessGrant, GrantHold, GrantSuspension, Person, WebhookDelivery, WebhookEvent
from bot.store.types import UTCDateTime

GRANT = "grant"
LICENCE = "licence"
DIRECTIVE = "directive"
HOLD_SEPARATOR = ";"


def routes_of(session: Session) -> Routes:
    """The receivers each event type goes to, for this transaction; empty without receivers."""
    return session.info.get(WEBHOOK_ROUTES) or {}


def _agg_joined(session: Session, column: Any) -> Any:
    """`column`'s values joined by `;` (any order), or null when there are none."""
    if session.get_bind().dialect.name == "postgresql":
        return func.string_agg(column, literal(HOLD_SEPARATOR, String))
    return func.group_concat(column, HOLD_SEPARATOR)


def _holds_of(session: Session, grant_id: Any) -> Any:
    """SQL for what holds the grant now, `;`-joined labels as in `grants list --json` held_by (rule holds
    by name, `directive:D3`), or an empty text; read back sorted by bot/present/webhooks.py."""
    # As Reason.label names them: `embargo`, or `embargo:not_on_file` when the fact is missing.
    rule_label = GrantHold.hold + case((col(GrantHold.unknown), literal(NOT_ON_FILE, String)), else_="")
    rule = (
        select(_agg_joined(session, rule_label))
        .where(GrantHold.grant_id == grant_id, col(GrantHold.released_at).is_(None))
        .scalar_subquery()
    )
    label = literal("directive:D", String) + cast(GrantSuspension.directive_id, String)
    directive = (
        select(_agg_joined(session, label))
        .where(GrantSuspension.grant_id == grant_id, col(GrantSuspension.released_at).is_(None))
        .scalar_subquery()
    )
    return func.coalesce(rule, "") + literal(HOLD_SEPARATOR, String) + func.coalesce(directive, "")


def _next_version(subject_type: str, subject_id: Any) -> Any:
    """SQL for the subject's next event version: one more than its last, 1 for its first."""
    earlier = aliased(WebhookEvent)
    last = (
        select(func.max(earlier.version))
        .where(earlier.subject_type == subject_type, earlier.subject_id == subject_id)
        .scalar_subquery()
    )
    return func.coalesce(last, 0) + 1


_EVENT_COLUMNS = (
    "type", "subject_type", "subject_id", "version", "occurred_at", "actor", "user_id", "email", "model",
    "expires_at", "holds", "data", "batch",
)  # fmt: skip


def grant_events(
    session: Session,
    event_type: str,
    where: ColumnElement[bool],
    *,
    now: datetime,
    actor: str,
    data: dict[str, Any] | None = None,
) -> None:
    """One `event_type` event for every grant matching `where`, with the grant's next version, its holder
    and what holds it (for grant.suspended), and deliveries to every receiver subscribed to the type:
    a fixed number of INSERT … SELECT statements whatever the number of grants. Call it where the
    change is audited, before or after the grant's row is updated (the event's type says its status).
    `data`: what every one of these events adds (a reason, a directive or re-check id)."""
    receivers = routes_of(session).get(event_type)
    if not receivers:
        return
    session.flush()  # grants and holds changed through the ORM must be seen by the statement
    batch = uuid.uuid4().hex
    after_id = _last_event_id(session)
    holds = _holds_of(session, AccessGrant.id) if event_type == GRANT_SUSPENDED else null()
    session.exec(  # type: ignore[call-overload]
        insert(WebhookEvent).from_select(
            list(_EVENT_COLUMNS),
            select(
                literal(event_type, String),
                literal(GRANT, String),
                AccessGrant.id,
                _next_version(GRANT, AccessGrant.id),
                literal(now, UTCDateTime),
                literal(actor, String),
                AccessGrant.user_id,
                Person.email,
                AccessGrant.model,
                AccessGrant.expires_at,
                holds,
                literal(data or {}, JSON),
                literal(batch, String),
            )
            .select_from(AccessGrant)
            .outerjoin(Person, col(Person.slack_user_id) == col(AccessGrant.user_id))
            .where(where)
            .order_by(col(AccessGrant.id)),
        )
    )
    for receiver in receivers:
        _queue(session, receiver, (col(WebhookEvent.id) > after_id, WebhookEvent.batch == batch), now)


def subject_event(
    session: Session,
    event_type: str,
    subject_type: str,
    subject_id: int,
    *,
    now: datetime,
    actor: str,
    data: dict[str, Any],
) -> None:
    """One event about a licence or a directive (`data`: its record after the change), with the subject's
    next version, and its deliveries to every receiver subscribed to the type."""
    receivers = routes_of(session).get(event_type)
    if not receivers:
        return
    version = session.exec(select(_next_version(subject_type, subject_id))).one()
    event = WebhookEvent(
        type=event_type,
        subject_type=subject_type,
        subject_id=subject_id,
        version=int(version),
        occurred_at=now,
        actor=actor,
        data=data,
    )
    session.add(event)
    session.flush()
    for receiver in receivers:
        _queue(session, receiver, (WebhookEvent.id == event.id,), now)


def _last_event_id(session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(WebhookEvent.id), 0))).one())


def _queue(
    session: Session, receiver: str, where: Sequence[ColumnElement[bool]], now: datetime, replay: bool = False
) -> None:
    """A pending delivery to `receiver` of every event matching `where`, in event order, in one
    statement; the transaction's commit wakes the senders."""
    lane = (
        literal(f"{receiver}:", String)
        + WebhookEvent.subject_type
        + literal(":", String)
        + cast(WebhookEvent.subject_id, String)
    )
    session.exec(  # type: ignore[call-overload]
        insert(WebhookDelivery).from_select(
            ["event_id", "receiver", "lane", "status", "attempts", "replay", "next_attempt_at", "created_at"],
            select(
                WebhookEvent.id,
                literal(receiver, String),
                lane,
                literal(OutboxStatus.PENDING.value, String),
                literal(0, Integer),
                literal(replay, Boolean),
                literal(now, UTCDateTime),
                literal(now, UTCDateTime),
            )
            .where(*where)
            .order_by(col(WebhookEvent.id)),
        )
    )
    session.info[OUTBOX_QUEUED] = True


def replay(
    session: Session, since: datetime, receivers: dict[str, frozenset[str]], now: datetime
) -> dict[str, int]:
    """Queue again, as new deliveries of the same events (same `webhook-id`), every event since `since`
    that each receiver (name -> the event types it subscribes to) subscribes to. Returns how many were
    queued per receiver."""
    queued = {}
    for receiver, types in sorted(receivers.items()):
        chosen = (col(WebhookEvent.occurred_at) >= since, col(WebhookEvent.type).in_(sorted(types)))
        queued[receiver] = int(
            session.exec(select(func.count()).select_from(WebhookEvent).where(*chosen)).one()
        )
        if queued[receiver]:
            _queue(session, receiver, chosen, now, replay=True)
    return queued


# -- the sender's claims ---------------------------------------------------------------------------------


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    worker_id: str,
    lease: Any,
    receivers: Sequence[str],
    skip_ids: Sequence[int] = (),
) -> list[tuple[WebhookDelivery, WebhookEvent]]:
    """Claim up to `limit` due deliveries to these receivers (others wait for a sender that knows
    them), each with its event; see claims.claim_due. The caller commits."""
    where = [col(WebhookDelivery.receiver).in_(list(receivers))]
    if skip_ids:
        where.append(col(WebhookDelivery.id).not_in(list(skip_ids)))
    claimed = claims.claim_due(
        session,
        claims.due_query(WebhookDelivery, *where),
        now=now,
        limit=limit,
        worker_id=worker_id,
        lease=lease,
    )
    events = _events(session, [d.event_id for d, _ in claimed])
    return [(delivery, events[delivery.event_id]) for delivery, _ in claimed]


def _events(session: Session, ids: Sequence[int]) -> dict[int, WebhookEvent]:
    found: dict[int, WebhookEvent] = {}
    for part in chunks(sorted(set(ids))):
        found.update(
            (e.id or 0, e) for e in session.exec(select(WebhookEvent).where(col(WebhookEvent.id).in_(part)))
        )
    return found


# -- for the CLI and the grant's display ------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """A delivery with its event."""

    delivery: WebhookDelivery
    event: WebhookEvent


def recent(session: Session, *, receiver: str | None, status: str | None, limit: int) -> list[Delivered]:
    """The `limit` newest deliveries, of one receiver and status if given, newest first."""
    query = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    )
    if receiver:
        query = query.where(WebhookDelivery.receiver == receiver)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return [Delivered(d, e) for d, e in session.exec(query)]


def last_deliveries(session: Session, grant_ids: Sequence[int]) -> dict[int, list[Delivered]]:
    """Grant id -> the latest delivery of its events to each receiver, by receiver name."""
    latest: dict[tuple[int, str], Delivered] = {}
    for part in chunks(sorted(set(grant_ids))):
        rows = session.exec(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
            .where(WebhookEvent.subject_type == GRANT, col(WebhookEvent.subject_id).in_(part))
            .order_by(col(WebhookDelivery.id))
        )
        for delivery, event in rows:
            latest[(event.subject_id, delivery.receiver)] = Delivered(delivery, event)
    found: dict[int, list[Delivered]] = {}
    for (grant_id, _), delivered in sorted(latest.items()):
        found.setdefault(grant_id, []).append(delivered)
    return found


def unfinished_count(session: Session, receivers: Sequence[str]) -> int:
    """How many deliveries to these receivers are pending or being sent."""
    return int(
        session.exec(
            select(func.count()).where(
                col(WebhookDelivery.status).in_(claims.UNFINISHED),
                col(WebhookDelivery.receiver).in_(list(receivers)),
            )
        ).one()
    )
