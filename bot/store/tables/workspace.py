"""What AccessBot knows of the Slack workspace: accounts, App Home tabs, DM channels."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime, stamped_at_flush


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
