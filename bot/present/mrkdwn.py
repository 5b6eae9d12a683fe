"""Slack mrkdwn for text: escaping what a person typed, clipping, dates, mentions and channel links.

Pure functions with no template engine, so that the data types of bot/present/replies.py can use them;
bot/render.py makes them the templates' filters.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.recipient import is_user_id

ELLIPSIS = "…"


def escape_mrkdwn(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def cut(escaped: str, limit: int) -> str:
    """Clip already-escaped mrkdwn to `limit` characters without cutting an entity in half (`clip` is
    for plain text)."""
    escaped = str(escaped)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def mrkdwn(text: str | None, limit: int | None = None) -> str:
    """Escape user text for mrkdwn; with `limit`, clip the *escaped* text without cutting an entity."""
    escaped = escape_mrkdwn(text or "")
    return escaped if limit is None else cut(escaped, limit)


def quote(text: str | None, limit: int = 2800) -> str:
    """User text as an mrkdwn block quote, escaped, and clipped to `limit` characters in all."""
    escaped = escape_mrkdwn(text or "")
    quoted = "\n".join("&gt; " + line if line else "&gt;" for line in escaped.split("\n"))
    return cut(quoted, limit)


def slack_date(value: datetime | None, style: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    if value is None:
        return "never"
    fallback = value.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(value.timestamp())}^{style}|{fallback}>"


def plain_date(value: datetime | None) -> str:
    return "never" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id and user_id.isalnum() else "someone"


def recipient(address: str) -> str:
    """A person (user ID) or a channel (channel ID) as a mention."""
    return mention(address) if is_user_id(address) else channel_link(address)


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>" if channel_id.isalnum() else escape_mrkdwn(channel_id)
