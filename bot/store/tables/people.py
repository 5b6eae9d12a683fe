"""The directory: people, their roles and citizenships."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

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
