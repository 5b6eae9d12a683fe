"""Messages as data: a short notice, or a template and the data for it.

Use cases answer the person who acted with one of these and queue the messages they send as these
(bot/notify/outbox.py stores them as JSON); only the Slack layer and the notifier turn them into Block
Kit, with the one Jinja environment of bot/render.py (`Renderer.reply`). Notice texts are plain text,
escaped for mrkdwn only when they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.present.mrkdwn import escape_mrkdwn, mention

Tone = Literal["info", "success", "warning", "error"]


@dataclass(frozen=True)
class Person:
    """A person a notice names, by Slack user ID; shown as a mention."""

    user_id: str


@dataclass(frozen=True)
class Notice:
    """A few words for the person who acted. `text` and `title` are plain text; `*emphasis*` and
    `code` spans are kept as written. When `values` is given, `{name}` fields in `text` are filled from
    it (a Person becomes a mention), so text that names someone needs no markup of its own; the values
    then carry everything a person typed, never the text itself."""

    text: str
    title: str | None = None
    tone: Tone = "info"
    values: Mapping[str, str | int | Person] = field(default_factory=dict)

    def mrkdwn(self) -> str:
        """The text as Slack mrkdwn: escaped, with its fields filled."""
        if not self.values:
            return escape_mrkdwn(self.text)
        return escape_mrkdwn(self.text).format_map(
            {
                key: mention(value.user_id) if isinstance(value, Person) else escape_mrkdwn(str(value))
                for key, value in self.values.items()
            }
        )


@dataclass(frozen=True)
class Screen:
    """A whole message or view: the template (a file in templates/ without `.json.j2`) and its data."""

    template: str
    data: Mapping[str, Any] = field(default_factory=dict)


Reply = Notice | Screen


def screen_of(reply: Reply) -> Screen:
    """The template and data that show `reply` (a notice is templates/notice.json.j2)."""
    if isinstance(reply, Notice):
        return Screen("notice", {"title": reply.title, "body": reply.mrkdwn(), "tone": reply.tone})
    return reply


# -- stored form -------------------------------------------------------------------------------------------

# A datetime in stored template data: {"$datetime": "<ISO 8601>"}. Template data holds datetimes (a
# grant's end, a decision's time) that the templates format for each reader; JSON has no such type.
_DATETIME = "$datetime"


def to_stored(reply: Reply) -> dict[str, Any]:
    """`reply` as a JSON-safe outbox payload: {"template": name, "data": {...}}. Raises TypeError for
    data JSON cannot hold (anything but dicts, lists, tuples, str, int, float, bool, None, datetime)."""
    screen = screen_of(reply)
    return {"template": screen.template, "data": _encode(dict(screen.data))}


def from_stored(payload: Mapping[str, Any]) -> Screen:
    """The Screen a payload written by `to_stored` holds. Raises KeyError or TypeError for another
    shape."""
    template = payload["template"]
    data = _decode(payload["data"])
    if not isinstance(template, str) or not isinstance(data, dict):
        raise TypeError("not a stored message")
    return Screen(template, data)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, Mapping):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} cannot be stored in a message's data")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _DATETIME in value:
            return datetime.fromisoformat(value[_DATETIME])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
