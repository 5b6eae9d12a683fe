"""Export licences, their models and countries, the grants that depend on them, lapse warnings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.status import (
    LicenceStatus,
)
from bot.store.types import UTCDateTime


class Licence(SQLModel, table=True):
    """An export licence export compliance recorded (bot/domain/licences.py). Never deleted: a revoked
    or expired licence stays for the record, with who ended it and why."""

    __tablename__ = "licence"
    __table_args__ = (
        # One licence per authority and number, told apart without regard to case (number_key in
        # bot/domain/licences.py; migration 0008): also how a re-import finds the licence it updates.
        UniqueConstraint("number_key", name="uq_licence_number_key"),
        # A person's licences in a status: what the coverage rule probes once per person and model. No
        # index on status alone: nearly every licence is active, and a planner without statistics
        # (SQLite) would probe that one, reading every active licence per person (migration 0007).
        Index("ix_licence_holder_status", "holder_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=64)
    authority: str = Field(max_length=100)
    number_key: str = Field(sa_type=Text)  # number_key(authority, number), kept with them
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
