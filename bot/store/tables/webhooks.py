"""Webhook events and their deliveries to each receiver (bot/store/webhooks.py writes them, in the
transaction of the change they report; bot/notify/webhooks.py delivers them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.status import OutboxStatus
from bot.store.types import UTCDateTime, stamped_at_flush


class WebhookEvent(SQLModel, table=True):
    """One event (`grant.suspended`, `licence.revoked`, …) as it was when it happened. Its body is built
    from this row alone (bot/present/webhooks.py), so every delivery and replay of it sends the same
    bytes under the same `webhook-id`."""

    __tablename__ = "webhook_event"
    # The version counts the events of one subject, from 1: receivers apply a subject's events in order
    # and ignore any older than the last they applied.
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=32)
    subject_type: str = Field(max_length=16)  # grant | licence | directive
    subject_id: int
    version: int
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)
    # Grant events: the grant after the change (the rest of it never changes once it is made).
    user_id: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    model: str | None = Field(default=None, max_length=64)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What held a suspended grant then, `;`-separated (`us_person`, `directive:D3`, …); null otherwise.
    holds: str | None = Field(default=None, sa_type=Text)
    # The rest of the event: a grant's reason, directive or re-check; a licence's or directive's record.
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Which statement wrote the row: deliveries of a bulk write are queued from it in one statement.
    batch: str | None = Field(default=None, max_length=32)


class WebhookDelivery(SQLModel, table=True):
    """One event to one receiver: pending until the receiver answers 2xx (`sent`), retried with backoff,
    `failed` when it refuses for good (410) or after the last attempt. Deliveries of one receiver and
    subject (its lane) go in order: one waits while an earlier one of its lane is unfinished."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_lane", "lane", "status", "id"),
        Index("ix_webhook_delivery_event", "event_id", "receiver"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # A webhook_event id; no foreign key, as grant_hold.grant_id (migration 0007): a bulk change queues
    # 100,000 of these in one statement, and PostgreSQL's per-row check would be much of its cost.
    event_id: int
    receiver: str = Field(max_length=32)
    lane: str = Field(max_length=64)  # `<receiver>:<subject type>:<subject id>`
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    # The receiver's last HTTP status (null: no answer, such as a timeout or a refused connection).
    response_status: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=Text)
    # Queued by `accessbot webhooks replay`, not by the change itself.
    replay: bool = Field(default=False)
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
