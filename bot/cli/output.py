"""What the commands print: records as a JSON array or a table, one JSON document, and the one error
line. Everything from stored data or from the person's input is made printable first (terminal_safe):
a newline in a value would forge a line, an escape sequence recolour or hide one."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.cli.common import UsageError
from bot.domain.text import terminal_safe
from bot.present.records import Record


def safe(value: object) -> str:
    """Any value, as text that can be printed on one terminal line (see terminal_safe); None is ""."""
    return terminal_safe("" if value is None else str(value))


def json_text(data: Any) -> str:
    """One JSON document, indented by 2 (json.dumps escapes control characters and non-ASCII)."""
    return json.dumps(data, indent=2)


def print_json(data: Any) -> None:
    """One JSON document, as json_text writes it."""
    print(json_text(data))


def print_record(record: Record) -> None:
    """One record as a JSON object."""
    print_json(record.as_json())


def print_fields(record: Record, as_json: bool) -> None:
    """One record as a JSON object, or as `key  value` lines (keys aligned, a list `;`-separated, null
    shown empty) made printable."""
    if as_json:
        print_record(record)
        return
    fields = record.as_json()
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        shown = ";".join(str(v) for v in value) if isinstance(value, list) else value
        print(f"{key:<{width}}  {safe(shown)}")


def print_records(records: Sequence[Record], as_json: bool, columns: Sequence[str]) -> None:
    """A JSON array of the records, or a table of `columns` (headed in capitals, `(none)` when empty)
    whose cells are made printable; a list in a cell is shown comma-separated."""
    rows = [record.as_json() for record in records]
    if as_json:
        print_json(rows)
        return
    if not rows:
        print("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    return safe(",".join(value) if isinstance(value, list) else value)


def fail(code: int, message: str) -> int:
    """Print `accessbot: MESSAGE` as one line on stderr and return `code`. Messages quote what was typed
    and what files and the database hold, so the line is made printable first."""
    print(f"accessbot: {terminal_safe(message)}", file=sys.stderr)
    return code


def write_file(path: Path, text: str) -> None:
    """Put `text` in the file at `path`, replacing it whole: written beside it under a temporary name,
    flushed to disk, then renamed over it, so that a reader (or a crash) never finds it half-written.
    The new file gets the usual permissions (0666 less the umask). Raises UsageError naming the file
    when it cannot be written; nothing is left behind then."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise UsageError(f"--output {path}: cannot be written ({error.strerror or error})") from None
