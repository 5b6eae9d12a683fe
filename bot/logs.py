"""Logging for every command: plain text lines by default, or one JSON object per line with
ACCESSBOT_LOG_FORMAT=json (python-json-logger), for log collectors that index fields.

A JSON line has `time` (ISO 8601, UTC), `level`, `logger` and `message`, then `exc_info` for a
traceback and any safe field the code attached: `job` (a scheduled job's name), `outbox_id` and `kind`
(an outbox row being delivered), `surface` (the Slack surface of a repeated or unhandled request, or
of a listener that failed). Fields are attached with `log_fields(...)` around a piece of work, or
`extra=` on one call; they hold ids and names of the bot's own things, never a person, a message or a
secret (the messages themselves follow the same rule: see README, Security).
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Slack's libraries log whole payloads (messages, justifications, tokens in URLs) at DEBUG.
_PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt", "bot.slack.bolt")

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("log_fields", default=None)


@contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Attach `fields` to every log line this thread writes inside the block (nested blocks add to the
    outer one's)."""
    token = _fields.set({**(_fields.get() or {}), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


class _Fields(logging.Filter):
    """Copies the fields of the surrounding log_fields() block onto each record (a field given with
    `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_fields.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per record: time, level, logger, message, then the record's extra fields."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def configure_logging(level: str, log_format: str) -> None:
    """Send log records to stderr at `level` (DEBUG, INFO, WARNING, ERROR) as `log_format` (text or json).
    Leaves an already configured root logger as it is (a test runner's, say), as logging.basicConfig
    does; the libraries that log payloads are held at INFO or above either way."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_Fields())
    logging.basicConfig(level=level, handlers=[handler])
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in _PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
