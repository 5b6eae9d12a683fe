"""The entitlement rule's holds on grants and the re-checks that open and release them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


class GrantHold(SQLModel, table=True):
    """A reason of the entitlement rule, other than a directive (those are GrantSuspension rows), that
    holds a grant suspended. Kept once released, so that history says what held whom and when; a grant
    is active only while no hold and no suspension of it is open."""

    __tablename__ = "grant_hold"
    # Open holds are found by grant through the unique index below; nothing looks holds up by person.
    # Fewer indexes make releasing 50,000 holds at once cheaper (each release writes a row version into
    # every index; migration 0013).
    __table_args__ = (
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
    user_id: str = Field(max_length=32)
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
