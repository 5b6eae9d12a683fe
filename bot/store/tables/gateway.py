"""What the gateway decision reads and leaves behind: people's personal keys, and when each grant was last
checked by a gateway (bot/services/gateway.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


class PersonalKey(SQLModel, table=True):
    """A personal key for the AI gateway. Only its SHA-256 digest is kept: the key itself is shown once,
    to its owner, when it is made. It names its owner and grants nothing by itself."""

    __tablename__ = "personal_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    digest: str = Field(max_length=64, unique=True)  # hex SHA-256 of the whole key
    hint: str = Field(max_length=16)  # the key's last characters, to tell keys apart in lists
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=64)
    revoke_reason: str | None = Field(default=None, sa_type=Text)


class GatewayCheck(SQLModel, table=True):
    """The last gateway check of a grant, and whether it was allowed: whether enforcement knows of it."""

    __tablename__ = "gateway_check"

    # An access_grant id; no foreign key, as grant_hold.grant_id (migration 0007).
    grant_id: int = Field(primary_key=True)
    checked_at: datetime = Field(sa_type=UTCDateTime)
    allowed: bool
