"""AccessBot's own records: the audit trail, the outbox of Slack messages, and the replay guard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.domain.status import (
    OutboxStatus,
)
from bot.store.types import UTCDateTime, stamped_at_flush


class AuditEvent(SQLModel, table=True):
    """One state change. Written unsealed (seq, prev_hash and hash empty) in the transaction of the change,
    then sealed into the hash chain by bot/store/audit_chain.py (see bot/domain/audit_chain.py)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # The event's place in the chain (1, 2, 3… without gaps), the hash of the event before it and its own:
    # empty until the sealer reaches it.
    seq: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """The head of the audit chain: one row (id 1), locked by whoever seals, so that the events of every
    replica join one chain."""

    __tablename__ = "audit_chain"

    id: int = Field(primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)  # the last event sealed; 0 before the first
    hash: str = Field(max_length=64)  # its hash (64 zeros before the first)


class AuditCheckpoint(SQLModel, table=True):
    """The chain's head as it was at a moment, posted to the compliance channel: a history rewritten
    after it no longer gives this hash at this seq. `seq` is also how many events the chain held."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_type=BigInteger)
    hash: str = Field(max_length=64)
    at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)
    channel: str | None = Field(default=None, max_length=32)  # where it was posted; None: not posted


class OutboxMessage(SQLModel, table=True):
    """A Slack message to deliver (or a message to update), written in the same transaction as the
    state change it reports, and delivered by bot/notify/sender.py."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lane", "lane", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # post | update | respond
    # Messages in one lane (a channel, a person's DM, a response_url) are delivered in order.
    lane: str = Field(max_length=64)
    address: str = Field(sa_type=Text)  # channel id, user id (a DM) or response_url
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    ref_id: int | None = Field(default=None)  # for an update: the post it edits
    group_key: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    # The last attempt may have reached Slack (a timeout, a 5xx): look before sending again.
    uncertain: bool = Field(default=False)
    next_attempt_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    sent_channel: str | None = Field(default=None, max_length=32)
    sent_ts: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The person the message is for: a response_url reply goes to them by DM once the URL no longer
    # works (Slack allows 5 uses in 30 minutes), and a DM to them is not sent while Slack says their
    # account is deactivated.
    user_id: str | None = Field(default=None, max_length=32)
    # Ask Slack (users.info) whether the account is active before sending: approval requests, where a
    # deactivated approver must not hold a step up.
    check_account: bool = Field(default=False)


class SeenRequest(SQLModel, table=True):
    """A signed Slack request already taken in, remembered for as long as its signature would verify,
    so that a replay, or Slack's retry of an event already handled, is answered without acting again.
    In the database so that every replica sees it."""

    __tablename__ = "seen_request"

    key: str = Field(primary_key=True, max_length=80)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
