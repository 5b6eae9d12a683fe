"""The database tables. Alembic (migrations/) owns the schema; these classes must match it.

States are stored as plain words (the values of the enums in bot/domain/status.py) so that SQL stays
readable in reports.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.domain.status import (
    DirectiveStatus,
    GrantStatus,
    LicenceStatus,
    OutboxStatus,
    RequestStatus,
    StepStatus,
)
from bot.store.types import UTCDateTime, stamped_at_flush


class Person(SQLModel, table=True):
    __tablename__ = "person"

    slack_user_id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    manager_email: str | None = Field(default=None, max_length=320, index=True)
    department: str | None = Field(default=None, max_length=200)
    work_country: str | None = Field(default=None, max_length=2)
    us_person: bool | None = Field(default=None)
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    # Set when a full directory import no longer lists the person: kept for the record, never deleted.
    departed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonRole(SQLModel, table=True):
    __tablename__ = "person_role"

    slack_user_id: str = Field(foreign_key="person.slack_user_id", primary_key=True, max_length=32)
    role: str = Field(primary_key=True, max_length=63, index=True)


class PersonCitizenship(SQLModel, table=True):
    __tablename__ = "person_citizenship"

    slack_user_id: str = Field(foreign_key="person.slack_user_id", primary_key=True, max_length=32)
    country: str = Field(primary_key=True, max_length=2, index=True)


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


class ApprovalTask(SQLModel, table=True):
    """One approver asked to decide one step; remembers the DM so every copy can be updated."""

    __tablename__ = "approval_task"
    __table_args__ = (UniqueConstraint("request_id", "position", "approver_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", index=True)
    position: int
    approver_id: str = Field(max_length=32, index=True)
    via_admin: bool = Field(default=False)
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
    __tablename__ = "access_grant"
    __table_args__ = (
        Index(
            "uq_access_grant_held",
            "user_id",
            "model",
            unique=True,
            sqlite_where=text("status IN ('active', 'suspended')"),
            postgresql_where=text("status IN ('active', 'suspended')"),
        ),
        Index("ix_access_grant_status_expires", "status", "expires_at"),
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


class AuditEvent(SQLModel, table=True):
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


class SlackAccount(SQLModel, table=True):
    """What Slack last said about a person's account: the `user_change` event and users.info. Slack still
    accepts messages to a deactivated account, so a delivered DM says nothing about whether anyone
    will read it."""

    __tablename__ = "slack_account"

    user_id: str = Field(primary_key=True, max_length=32)
    deleted: bool = Field(default=False)
    checked_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    changed_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)


class HomeTab(SQLModel, table=True):
    """People who have opened the App Home, and the hash of the view last published there: a publish
    passes it so that Slack refuses one rendered from older state (views.publish `hash`)."""

    __tablename__ = "home_tab"

    user_id: str = Field(primary_key=True, max_length=32)
    view_hash: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DmChannel(SQLModel, table=True):
    """A person's DM channel with the bot, learnt from chat.postMessage, for conversations.history."""

    __tablename__ = "dm_channel"

    user_id: str = Field(primary_key=True, max_length=32)
    channel_id: str = Field(max_length=32)


class Directive(SQLModel, table=True):
    """An order restricting models for a population (see bot/domain/directives.py)."""

    __tablename__ = "directive"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=150)
    authority: str = Field(max_length=150)
    reference: str = Field(max_length=100)
    notice: str = Field(sa_type=Text)
    action: str = Field(max_length=20)
    population: str = Field(sa_type=Text)  # canonical text, e.g. "citizenship:IR;KP"
    status: str = Field(default=DirectiveStatus.DRAFT, max_length=16, index=True)
    effective_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime, index=True)
    issued_by: str = Field(max_length=64)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lifted_by: str | None = Field(default=None, max_length=64)
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lift_reason: str | None = Field(default=None, sa_type=Text)
    # The issuing admin's Slack message that shows delivery progress, updated in place.
    progress_outbox_id: int | None = Field(default=None)
    progress_reported: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)


class DirectiveModel(SQLModel, table=True):
    __tablename__ = "directive_model"

    directive_id: int = Field(foreign_key="directive.id", primary_key=True)
    model: str = Field(primary_key=True, max_length=64, index=True)


class DirectiveCountry(SQLModel, table=True):
    __tablename__ = "directive_country"

    directive_id: int = Field(foreign_key="directive.id", primary_key=True)
    country: str = Field(primary_key=True, max_length=2)


class DirectiveUser(SQLModel, table=True):
    __tablename__ = "directive_user"

    directive_id: int = Field(foreign_key="directive.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=32)


class GrantSuspension(SQLModel, table=True):
    """A grant held suspended by a directive. Kept after the directive is lifted (released_at set), so
    that reports can say what happened to whom; a grant is active again only when no row for it is open."""

    __tablename__ = "grant_suspension"
    __table_args__ = (Index("ix_grant_suspension_open", "grant_id", "released_at"),)

    grant_id: int = Field(foreign_key="access_grant.id", primary_key=True)
    directive_id: int = Field(foreign_key="directive.id", primary_key=True, index=True)
    user_id: str = Field(max_length=32, index=True)
    suspended_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when lifting this directive gave the grant back (it had not expired, nothing else held it).
    reinstated: bool = Field(default=False)
    # The re-check that found the directive covering the grant's holder (None: its activation did).
    recheck_id: int | None = Field(default=None)


class DirectiveBroadcast(SQLModel, table=True):
    """One announcement of a directive (its warning, activation, lifting or withdrawal) and the outbox
    group its messages carry, so that progress and reports read the phase of a notice as data."""

    __tablename__ = "directive_broadcast"

    directive_id: int = Field(foreign_key="directive.id", primary_key=True)
    phase: str = Field(primary_key=True, max_length=16)  # warning | active | lifted | withdrawn
    group_key: str = Field(max_length=64, index=True)
    queued_at: datetime = Field(default_factory=stamped_at_flush, sa_type=UTCDateTime)


class GrantConfirmation(SQLModel, table=True):
    """A hold export compliance confirmed away for this grant: the fact behind it was missing when the
    request was approved through an export-compliance review (bot/domain/entitlement.py CONFIRMABLE)."""

    __tablename__ = "grant_confirmation"

    grant_id: int = Field(foreign_key="access_grant.id", primary_key=True)
    hold: str = Field(primary_key=True, max_length=32)


class GrantHold(SQLModel, table=True):
    """A reason of the entitlement rule, other than a directive (those are GrantSuspension rows), that
    holds a grant suspended. Kept once released, so that history says what held whom and when; a grant
    is active only while no hold and no suspension of it is open."""

    __tablename__ = "grant_hold"
    __table_args__ = (
        Index("ix_grant_hold_open", "grant_id", "released_at"),
        Index(
            "uq_grant_hold_open",
            "grant_id",
            "hold",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # An access_grant id; no foreign key: checked per row, it would cost a mass re-check a third of its
    # time, and rows are only ever written from a join with the grant (migration 0007).
    grant_id: int
    user_id: str = Field(max_length=32, index=True)
    hold: str = Field(max_length=32)
    unknown: bool = Field(default=False)  # the fact behind it is missing rather than refusing
    held_at: datetime = Field(sa_type=UTCDateTime)
    recheck_id: int | None = Field(default=None, index=True)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_recheck_id: int | None = Field(default=None)


class Recheck(SQLModel, table=True):
    """One run of the re-check that changed something: what set it off, and what it changed."""

    __tablename__ = "recheck"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    trigger: str = Field(max_length=64)
    actor: str = Field(max_length=64)


class RecheckChange(SQLModel, table=True):
    """A grant a re-check suspended or reinstated, or a pending request it stopped, and whose it is: what
    the holder's notice is composed from."""

    __tablename__ = "recheck_change"
    __table_args__ = (Index("ix_recheck_change_person", "recheck_id", "user_id"),)

    # A recheck id; no foreign key, as grant_hold.grant_id (migration 0007).
    recheck_id: int = Field(primary_key=True)
    subject_type: str = Field(primary_key=True, max_length=16)  # grant | request
    subject_id: int = Field(primary_key=True)
    user_id: str = Field(max_length=32)
    change: str = Field(max_length=16)  # suspended | reinstated | stopped | cancelled


class RecheckReason(SQLModel, table=True):
    """The rule's reasons for every held grant, written once per re-check and deleted when it ends: the
    statements that compare them with the holds on record then join an indexed table instead of
    evaluating the rule again for every hold. UNLOGGED on PostgreSQL (migration 0007): empty whenever
    no re-check is running, it needs no write-ahead log."""

    __tablename__ = "recheck_reason"

    recheck_id: int = Field(primary_key=True)
    grant_id: int = Field(primary_key=True)
    hold: str = Field(primary_key=True, max_length=32)
    directive_id: int = Field(primary_key=True)  # 0 unless the hold is a directive
    user_id: str = Field(max_length=32)
    unknown: bool = Field(default=False)


class Licence(SQLModel, table=True):
    """An export licence export compliance recorded (bot/domain/licences.py). Never deleted: a revoked
    or expired licence stays for the record, with who ended it and why."""

    __tablename__ = "licence"
    __table_args__ = (
        UniqueConstraint("authority", "number", name="uq_licence_number"),
        # A person's licences in a status: what the coverage rule probes once per person and model. No
        # index on status alone: nearly every licence is active, and a planner without statistics
        # (SQLite) would probe that one, reading every active licence per person (migration 0007).
        Index("ix_licence_holder_status", "holder_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=64)
    authority: str = Field(max_length=100)
    kind: str = Field(max_length=32)
    holder_id: str = Field(max_length=32)
    valid_from: date
    valid_until: date = Field(index=True)
    conditions: str = Field(default="", sa_type=Text)
    status: str = Field(default=LicenceStatus.ACTIVE, max_length=16)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=64)  # who revoked it ("system" when it expired)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, sa_type=Text)


class LicenceModel(SQLModel, table=True):
    __tablename__ = "licence_model"

    licence_id: int = Field(foreign_key="licence.id", primary_key=True)
    model: str = Field(primary_key=True, max_length=64, index=True)


class LicenceCountry(SQLModel, table=True):
    __tablename__ = "licence_country"

    licence_id: int = Field(foreign_key="licence.id", primary_key=True)
    country: str = Field(primary_key=True, max_length=2)


class GrantLicence(SQLModel, table=True):
    """A licence a grant depends on: it exempted the holder from a require-licence directive in force
    on the grant's model. Kept when the licence ends (the grant is then held by the directive again)."""

    __tablename__ = "grant_licence"

    grant_id: int = Field(foreign_key="access_grant.id", primary_key=True)
    licence_id: int = Field(foreign_key="licence.id", primary_key=True, index=True)


class LicenceWarning(SQLModel, table=True):
    """A warning that a licence will lapse, queued once per licence and lead time (days before its last
    day), so that a restart or a second replica never warns twice."""

    __tablename__ = "licence_warning"

    licence_id: int = Field(foreign_key="licence.id", primary_key=True)
    days_before: int = Field(primary_key=True)
    queued_at: datetime = Field(sa_type=UTCDateTime)
