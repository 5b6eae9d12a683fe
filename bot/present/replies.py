"""What a use case answers the person who acted, as data: a short notice, or a template and the data
for it. Use cases return these and never Block Kit; the Slack layer renders them (`render_reply`) with
the one Jinja environment of bot/render.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.render import Renderer

Tone = Literal["info", "success", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """A few words for the person who acted. `text` is mrkdwn written by AccessBot, with anything a
    person typed already escaped; `title` is plain text."""

    text: str
    title: str | None = None
    tone: Tone = "info"


@dataclass(frozen=True)
class Screen:
    """A whole message or view: the template (a file in templates/ without `.json.j2`) and its data."""

    template: str
    data: Mapping[str, Any] = field(default_factory=dict)


Reply = Notice | Screen


def render_reply(renderer: Renderer, reply: Reply) -> dict[str, Any]:
    """The Block Kit message or view for `reply`: {"text", "blocks"} for messages, a view object for
    views (whatever the template renders)."""
    if isinstance(reply, Notice):
        return renderer.render("notice", title=reply.title, body=reply.text, tone=reply.tone)
    return renderer.render(reply.template, **reply.data)
