"""What the sender remembers of Slack between attempts: each person's DM channel with the bot, the hash
of the App Home view last published to them, and what Slack last said about their account (written by
bot/store/accounts.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.store.tables import DmChannel, HomeTab, SlackAccount


def dm_channel(session: Session, user_id: str) -> str | None:
    """The id of the person's DM channel with the bot, if a post to them has revealed it."""
    known = session.get(DmChannel, user_id)
    return known.channel_id if known is not None else None


def remember_dm(session: Session, user_id: str, channel_id: str) -> bool:
    """Record (or correct) the person's DM channel; False when it was already known as this one."""
    row = session.get(DmChannel, user_id)
    if row is None:
        session.add(DmChannel(user_id=user_id, channel_id=channel_id))
    elif row.channel_id != channel_id:
        row.channel_id = channel_id
        session.add(row)
    else:
        return False
    return True


def home_view_hash(session: Session, user_id: str) -> str | None:
    """The hash Slack gave the App Home view last published to the person, if any."""
    known = session.get(HomeTab, user_id)
    return known.view_hash if known is not None else None


def home_openers(session: Session, user_ids: Iterable[str]) -> list[str]:
    """Those of `user_ids` who have opened the App Home (so have a tab worth refreshing), sorted."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    return sorted(session.exec(select(HomeTab.user_id).where(col(HomeTab.user_id).in_(wanted))).all())


def known_account(session: Session, user_id: str) -> SlackAccount | None:
    """What Slack last said about the person's account (deleted or not, and when it was checked)."""
    return session.get(SlackAccount, user_id)
