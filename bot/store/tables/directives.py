"""Directives, whom and what they name, the grants they suspend, and their announcements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.domain.status import (
    DirectiveStatus,
)
from bot.store.types import UTCDateTime, stamped_at_flush


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
    that reports can say what happened to whom; a grant is active again only when no row for it is open.

    `released_at` and `reinstated` are in no index (a grant's rows are found by the primary key's
    `grant_id`), so that lifting a directive over 50,000 grants rewrites each row in place on its page
    (PostgreSQL's heap-only update; `fillfactor` set by migration 0013)."""

    __tablename__ = "grant_suspension"
    # A directive's rows, and one person's among them (notices); nothing looks rows up by person alone.
    __table_args__ = (Index("ix_grant_suspension_directive_user", "directive_id", "user_id"),)

    # An access_grant id and a directive id; no foreign keys: checked per row, they cost putting a
    # directive in force a third of its time, and rows are only ever written from a join with the grant
    # under the directive being applied (migration 0013).
    grant_id: int = Field(primary_key=True)
    directive_id: int = Field(primary_key=True)
    user_id: str = Field(max_length=32)
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
