"""One Jinja2 environment for every Slack message and view, and one for the HTML pages.

Templates (templates/*.j2) write Block Kit JSON. Every value goes through `tojson`; user text also goes
through `mrkdwn` first, so `<!channel>` arrives as text, not a ping. HTML autoescaping is off on purpose:
it would turn quotes into entities that Slack shows raw.

Pages (templates/*.html, such as the directive evidence page) are HTML, so there autoescaping is always
on: every value they show (names, notice text, Slack's error strings) is user data.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.durations import format_duration
from bot.domain.text import BIDI_CONTROLS
from bot.present.mrkdwn import (
    channel_link,
    clip,
    cut,
    escape_mrkdwn,
    mention,
    mrkdwn,
    plain_date,
    quote,
    recipient,
    slack_date,
)
from bot.present.replies import Reply, screen_of
from bot.slack import ids

__all__ = ["Renderer", "clip", "escape_mrkdwn", "mention", "mrkdwn", "quote"]


def _environment(
    templates_dir: Path, *, autoescape: bool, extensions: list[str] | None = None
) -> Environment:
    """The templates of `templates_dir`, where a missing value is an error, not an empty string, and a
    block tag leaves no blank line or indent behind."""
    return Environment(
        loader=FileSystemLoader(str(templates_dir)),
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=extensions or [],
    )


# Compiling a template costs far more than rendering it. Every renderer of one templates folder in a
# process shares one environment, so that each template is compiled once per process (the CLI, a replica
# and its sender, the tests' many bots), however many renderers there are; an environment is safe to share
# between threads, and reloads a template whose file changed.
@functools.lru_cache(maxsize=16)
def _slack_environment(templates_dir: Path) -> Environment:
    env = _environment(templates_dir, autoescape=False, extensions=["jinja2.ext.do"])
    env.filters.update(
        tojson=lambda value: json.dumps(value, ensure_ascii=False),
        mrkdwn=mrkdwn,
        quote=quote,
        clip=clip,
        cut=cut,
        date=slack_date,
        plain_date=plain_date,
        duration=format_duration,
        mention=mention,
        channel=channel_link,
        recipient=recipient,
    )
    env.globals["ids"] = ids
    return env


@functools.lru_cache(maxsize=16)
def _page_environment(templates_dir: Path) -> Environment:
    env = _environment(templates_dir, autoescape=True)
    env.finalize = visible_controls
    return env


class Renderer:
    """Slack messages and views from templates/<name>.json.j2 (see the module's docstring)."""

    def __init__(self, templates_dir: Path):
        self.templates_dir = templates_dir
        self.env = _slack_environment(templates_dir)

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

    def reply(self, reply: Reply) -> dict[str, Any]:
        """The Block Kit message or view for a use case's or listener's `reply`: {"text", "blocks"} for a
        message, a view object for a view (whatever its template renders)."""
        screen = screen_of(reply)
        return self.render(screen.template, **screen.data)


# A name holding a bidirectional control could make a handed-over page read differently from what was
# recorded (bot/domain/text.py BIDI_CONTROLS).
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def visible_controls(value: Any) -> Any:
    """A value shown on a page with each bidirectional control character written out (`[U+202E]`), so
    that it can neither reorder what the reader sees nor hide; other values unchanged."""
    if not isinstance(value, str) or not _BIDI.search(value):
        return value  # unchanged, markup included
    return _BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", value)


class PageRenderer:
    """Whole HTML pages from templates/<name>.html, every value HTML-escaped and its bidirectional
    control characters written out (visible_controls)."""

    def __init__(self, templates_dir: Path):
        self.env = _page_environment(templates_dir)

    def render(self, name: str, **data: Any) -> str:
        """The page templates/<name>.html with `data`. Raises jinja2.TemplateNotFound when the templates
        directory has no such page, and jinja2.UndefinedError when `data` lacks a value it shows."""
        return self.env.get_template(f"{name}.html").render(**data)
