"""One Jinja2 environment for every Slack message and view.

Templates (templates/*.j2) write Block Kit JSON. Every value goes through `tojson`; user text also goes
through `mrkdwn` first, so `<!channel>` arrives as text, not a ping. HTML autoescaping is off on purpose:
it would turn quotes into entities that Slack shows raw.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.durations import format_duration
from bot.domain.recipient import is_user_id
from bot.slack import ids

ELLIPSIS = "…"


def escape_mrkdwn(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _cut(escaped: str, limit: int) -> str:
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
    return escaped if limit is None else _cut(escaped, limit)


def quote(text: str | None, limit: int = 2800) -> str:
    """User text as an mrkdwn block quote, escaped, and clipped to `limit` characters in all."""
    escaped = escape_mrkdwn(text or "")
    quoted = "\n".join("&gt; " + line if line else "&gt;" for line in escaped.split("\n"))
    return _cut(quoted, limit)


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


class Renderer:
    def __init__(self, templates_dir: Path):
        self.templates_dir = templates_dir
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            extensions=["jinja2.ext.do"],
        )
        self.env.filters.update(
            tojson=lambda value: json.dumps(value, ensure_ascii=False),
            mrkdwn=mrkdwn,
            quote=quote,
            clip=clip,
            cut=_cut,
            date=slack_date,
            plain_date=plain_date,
            duration=format_duration,
            mention=mention,
            channel=channel_link,
            recipient=recipient,
        )
        self.env.globals["ids"] = ids

    def template_names(self) -> list[str]:
        return sorted(self.env.list_templates(extensions=["j2"]))

    def render(self, name: str, **data: Any) -> dict[str, Any]:
        """Render templates/<name>.json.j2 into a dict (a message with `text` + `blocks`, or a view)."""
        source = self.env.get_template(f"{name}.json.j2").render(**data)
        try:
            rendered = json.loads(source)
        except json.JSONDecodeError as error:  # a template bug: say where
            raise ValueError(f"template {name} produced invalid JSON: {error}") from error
        if not isinstance(rendered, dict):
            raise ValueError(f"template {name} must produce a JSON object")
        return rendered
