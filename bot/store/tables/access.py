"""Requests, their approval steps, tasks and decisions, and the grants approval becomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ColumnElement, Index, Text, UniqueConstraint, text
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel, col

from bot.domain.status import (
    GrantStatus,
    RequestStatus,
    StepStatus,
)
from bot.store.types import UTCDateTime, stamped_at_flush


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_request"
    __table_args__ = (
        # One pending request per person and model, enforced by the database so that two
        # submissions racing each other cannot both be filed.
        Index(
            "uq_access_request_pending",
            "requester_id",
            "model",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: str = Field(max_length=32, index=True)
    model: str = Field(max_length=64, index=True)
    duration_seconds: int
    justification: str = Field(sa_type=Text)
    status: str = Field(default=RequestStatus.PENDING, max_length=16, index=True)
    current_step: int | None = Field(default=None)
    step_count: int = Field(default=0)
    policy_results: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome_reason: str | None = Field(default=None, sa_type=Text)
    decided_by: str | None = Field(default=None, max_length=64)
    directive_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Set when the request asks to extend this grant (the holder's) rather than for a new one.
    extends_grant_id: int | None = Field(default=None)


class RequestStep(SQLModel, table=True):
    __tablename__ = "request_step"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", index=True)
    position: int
    name: str = Field(max_length=100)
    approvers: str = Field(max_length=63)
    quorum: int = Field(default=1)
    note: str | None = Field(default=None, sa_type=Text)
    routed_reason: str | None = Field(default=None, sa_type=Text)
    status: str = Field(default=StepStatus.WAITING, max_length=16)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Whether its approvers' delegates are asked too (StepRule.is_delegable, as the chain said then).
    delegable: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    # Reminders sent to its approvers while it waited, and when it was escalated (None: not yet).
    reminders_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When it next owes a reminder or its escalation (None: nothing more, or not started).
    next_follow_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class ApprovalTask(SQLModel, table=True):
    """One approver asked to decide one step; remembers the DM so every copy can be updated."""

    __tablename__ = "approval_task"
    __table_args__ = (UniqueConstraint("request_id", "position", "approver_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", index=True)
    position: int
    approver_id: str = Field(max_length=32, index=True)
    via_admin: bool = Field(default=False)
    # Asked as the delegate of this approver (bot/services/delegations.py); None: in their own right.
    on_behalf_of: str | None = Field(default=None, max_length=32)
    # When a delegate's task stopped counting (the delegation ended); None: it still does.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outbox_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)


class Decision(SQLModel, table=True):
    __tablename__ = "decision"
    # One decision per person per request: nobody approves two steps, and a double click or a retry
    # cannot record a second decision.
    __table_args__ = (UniqueConstraint("request_id", "approver_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", index=True)
    position: int
    approver_id: str = Field(max_length=32)
    verdict: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_type=Text)
    decided_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)


class AccessGrant(SQLModel, table=True):
    """A person's use of a model from `starts_at` until `expires_at`. Held (active or suspended) while
    `ended_at` is empty; expired and revoked grants are ended, with when, by whom and why.

    No index covers `status`: a suspension or reinstatement (bot/store/directive_effects.py,
    bot/store/recheck.py), which changes 50,000 rows at once, then rewrites each row in place on its
    page (PostgreSQL's heap-only update) instead of adding an entry to every index of the table. The
    indexes that must know whether a grant is held read `ended_at`, which the check below keeps in step
    with `status`; `fillfactor` (set by migration 0013) leaves each page room for those rewrites."""

    __tablename__ = "access_grant"
    __table_args__ = (
        Index(
            "uq_access_grant_held",
            "user_id",
            "model",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index(
            "ix_access_grant_held_expires",
            "expires_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        CheckConstraint(
            "(status IN ('active', 'suspended')) = (ended_at IS NULL)", name="ck_access_grant_ended"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    model: str = Field(max_length=64, index=True)
    request_id: int | None = Field(default=None, foreign_key="access_request.id", unique=True)
    status: str = Field(default=GrantStatus.ACTIVE, max_length=16)
    starts_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, sa_type=Text)
    ended_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)


def grant_held() -> ColumnElement[bool]:
    """SQL: the grant is held (active or suspended), in the form the partial indexes of access_grant
    answer: `ended_at` is empty (ck_access_grant_ended keeps it equivalent to the status)."""
    return col(AccessGrant.ended_at).is_(None)


class GrantConfirmation(SQLModel, table=True):
    """A hold export compliance confirmed away for this grant: the fact behind it was missing when the
    request was approved through an export-compliance review (bot/domain/entitlement.py CONFIRMABLE)."""

    __tablename__ = "grant_confirmation"

    grant_id: int = Field(foreign_key="access_grant.id", primary_key=True)
    hold: str = Field(primary_key=True, max_length=32)


class GrantWarning(SQLModel, table=True):
    """A warning that a grant will end, queued once per grant and lead time (seconds before its end), so
    that a restart or a second replica never warns twice. Deleted when the grant is extended: the
    warnings start again for its new end."""

    __tablename__ = "grant_warning"

    grant_id: int = Field(foreign_key="access_grant.id", primary_key=True)
    lead_seconds: int = Field(primary_key=True)
    queued_at: datetime = Field(sa_type=UTCDateTime)


class Delegation(SQLModel, table=True):
    """`delegator_id`'s approval duties (all of them, or those of `role`: a directory role or `manager`)
    handed to `delegate_id` from `starts_at` until `ends_at` or its revocation (bot/services/
    delegations.py). Kept once ended, for the record."""

    __tablename__ = "delegation"

    id: int | None = Field(default=None, primary_key=True)
    delegator_id: str = Field(max_length=32, index=True)
    delegate_id: str = Field(max_length=32, index=True)
    role: str | None = Field(default=None, max_length=63)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime, index=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=64)
    # When its end was applied to the steps waiting on the delegate (their messages updated).
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BreakGlass(SQLModel, table=True):
    """Break-glass use of a model: the grant it made at once, why, and the review after the fact
    (`review`: pending, then approved (the grant stays) or denied (it was revoked)); bot/services/
    break_glass.py."""

    __tablename__ = "break_glass"

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="access_grant.id", unique=True)
    user_id: str = Field(max_length=32, index=True)
    model: str = Field(max_length=64)
    reason: str = Field(sa_type=Text)
    used_at: datetime = Field(sa_type=UTCDateTime, index=True)
    review: str = Field(default="pending", max_length=16)
    reviewed_by: str | None = Field(default=None, max_length=64)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_reason: str | None = Field(default=None, sa_type=Text)
