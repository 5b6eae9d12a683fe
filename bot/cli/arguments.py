"""Reading ids, counts and statuses from the command line.

Ids and counts are ASCII digits within the database's integer range (parse_db_id): `int()` would also
take other scripts' digits, signs and `_`, and a number no INTEGER column holds."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from bot.cli.common import UsageError
from bot.domain.instants import InstantError, parse_instant
from bot.domain.text import MAX_DB_ID, parse_db_id

# As `/directive` reads one (bot/slack/command_text.py): an optional "#", an optional one-letter kind,
# then the number; only the kind D, or none, names a directive.
_ID = re.compile(r"#?([A-Za-z]?)(.+)", re.DOTALL)


def moment(option: str, text: str) -> datetime:
    """An option's ISO 8601 time with its zone, in UTC (see parse_instant). Raises UsageError naming
    `option` for text that is no such time, has no zone, or lies outside 1970 to 9998."""
    try:
        return parse_instant(text)
    except InstantError as error:
        raise UsageError(f"{option} '{text}' {error}") from None


def output_file(text: str) -> Path:
    """An `--output` file: a path naming a file, not nothing, `.` or a directory. Raises
    argparse.ArgumentTypeError saying which."""
    path = Path(text)
    if not text.strip() or path.name in ("", ".", ".."):
        raise argparse.ArgumentTypeError(f"'{text}' names no file")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"'{text}' is a directory, not a file")
    return path


def positive(text: str) -> int:
    """A count or a number of seconds: 1 to MAX_DB_ID (a limit goes into SQL, where PostgreSQL refuses
    a bigger one). Raises argparse.ArgumentTypeError saying which rule the text breaks."""
    value = parse_db_id(text)
    if value is not None:
        return value
    if text.isascii() and text.isdigit():
        problem = "must be at least 1" if int(text) < 1 else f"must be at most {MAX_DB_ID}"
        raise argparse.ArgumentTypeError(f"{problem}, not {text}")
    raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")


def message_id(text: str) -> int:
    """An outbox message ID as `accessbot outbox list` shows it. Raises argparse.ArgumentTypeError."""
    value = parse_db_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a message ID (a whole number, like 12)")
    return value


def directive_id(text: str, action: str) -> int:
    """A directive ID argument of `accessbot directive ACTION`: `D3`, `d3`, `#3` or `3`.

    Raises UsageError quoting the argument as typed (made printable when the error is printed)."""
    match = _ID.fullmatch(text)
    number = parse_db_id(match.group(2)) if match else None
    if match is None or number is None or match.group(1).upper() not in ("", "D"):
        raise UsageError(f"'{text}' is not a directive ID (like D3); usage: accessbot directive {action} D3")
    return number


def words(statuses: type[StrEnum]) -> list[str]:
    """A status enum's words, as `--status` choices (argparse would show the members' reprs)."""
    return [status.value for status in statuses]
