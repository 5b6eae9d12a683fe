"""Outbox messages that render as exactly the message a test gives, whatever Slack will make of it:
for tests of the sender and of what Slack does with a message, not of AccessBot's templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.notify.compose import Composer
from bot.present.replies import Screen, from_stored
from bot.render import Renderer
from bot.store.tables import OutboxMessage

RAW_TEMPLATES = Path(__file__).resolve().parent / "templates"


def raw(message: dict[str, Any]) -> Screen:
    """A message to queue: renders as `message` itself ({"text", "blocks"?})."""
    return Screen("raw", {"message": message})


def raw_composer() -> Composer:
    """The sender's composer for rows queued with `raw`: they never read the database."""
    return Composer(_NoReads(), Renderer(RAW_TEMPLATES))


class _NoReads:
    catalog: Any = None
    clock: Any = None

    def read(self) -> Any:
        raise AssertionError("a raw message needs no database")


def render_raw(row: OutboxMessage) -> dict[str, Any]:
    """What the sender sends for a row queued with `raw`."""
    return Renderer(RAW_TEMPLATES).reply(from_stored(row.payload))
