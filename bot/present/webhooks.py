"""The body of a webhook event and the records of `accessbot webhooks list --json` and of a grant's
deliveries (`grants list --json` webhooks: GrantDeliveryRecord, in bot/present/records.py).

A body is built from its stored event alone (bot/store/tables/webhooks.py), so it is the same bytes at
every delivery, retry and replay:

    {"type": "grant.suspended", "timestamp": "2026-03-01T09:30:00+00:00",
     "data": {"version": 3, "actor": "directive:D1", "directive_id": 1,
              "grant": {"id": 7, "status": "suspended", "slack_user_id": "U0BORIS01",
                        "email": "boris@example.com", "model": "mythos-5",
                        "expires_at": "…", "held_by": ["directive:D1"]}}}

`data.version` counts the events of the subject (grant, licence or directive) from 1.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Self

from bot.domain.status import GrantStatus, OutboxStatus
from bot.present.records import Record, Timestamp

if TYPE_CHECKING:
    from bot.store.tables import WebhookDelivery, WebhookEvent

# The grant's status after each grant event.
GRANT_STATUS = {
    "grant.activated": GrantStatus.ACTIVE,
    "grant.suspended": GrantStatus.SUSPENDED,
    "grant.reinstated": GrantStatus.ACTIVE,
    "grant.revoked": GrantStatus.REVOKED,
    "grant.expired": GrantStatus.EXPIRED,
    "grant.extended": GrantStatus.ACTIVE,
}


def message_id(event: WebhookEvent) -> str:
    """The Standard Webhooks `webhook-id` of an event: the same for every delivery of it, so that a
    receiver can tell a retry or a replay from a new event."""
    return f"evt_{event.id}"


def body(event: WebhookEvent) -> dict[str, Any]:
    """The event's JSON body (see the module docstring)."""
    data: dict[str, Any] = {"version": event.version, "actor": event.actor, **event.data}
    if event.subject_type == "grant":
        held_by = sorted({label for label in (event.holds or "").split(";") if label})
        data["grant"] = {
            "id": event.subject_id,
            "status": GRANT_STATUS[event.type].value,
            "slack_user_id": event.user_id,
            "email": event.email,
            "model": event.model,
            "expires_at": event.expires_at.isoformat() if event.expires_at else None,
            "held_by": held_by,
        }
    return {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": data}


def body_text(event: WebhookEvent) -> str:
    """The body as the exact text sent and signed: compact JSON, keys in the order above."""
    return json.dumps(body(event), separators=(",", ":"), ensure_ascii=False)


class DeliveryRecord(Record):
    """A delivery of an event to a receiver (no body: it holds personal data). `status` is `pending`,
    `sending`, `sent` (the receiver answered 2xx) or `failed`; `response_status` is the receiver's last
    HTTP status (null without an answer)."""

    id: int
    receiver: str
    webhook_id: str
    type: str
    subject: str
    version: int
    status: OutboxStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    replay: bool
    occurred_at: Timestamp
    created_at: Timestamp
    sent_at: Timestamp | None

    @classmethod
    def of(cls, delivery: WebhookDelivery, event: WebhookEvent) -> Self:
        return cls(
            id=delivery.id or 0,
            receiver=delivery.receiver,
            webhook_id=message_id(event),
            type=event.type,
            subject=f"{event.subject_type}:{event.subject_id}",
            version=event.version,
            status=OutboxStatus(delivery.status),
            attempts=delivery.attempts,
            response_status=delivery.response_status,
            last_error=delivery.last_error,
            replay=delivery.replay,
            occurred_at=event.occurred_at,
            created_at=delivery.created_at,
            sent_at=delivery.sent_at,
        )
