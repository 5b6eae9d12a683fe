"""Reading the CSV files people import (the directory, licences): every row or none."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.domain.people import FileProblems, cell_text

MAX_FILE_BYTES = 50 * 1024 * 1024


def read_csv(
    path: Path, header_problems: Callable[[list[str]], list[str]]
) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of the CSV file at `path` (UTF-8, optional BOM, header row) as (line, column ->
    cell) in file order, skipping blank rows (nothing but spaces or control characters). Raises
    FileProblems for a missing, oversized or non-UTF-8 file, a header `header_problems` finds wrong, or
    text that is not CSV."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FileProblems([(0, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")])
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise FileProblems([(0, "file not found")]) from None
    except UnicodeDecodeError as error:
        raise FileProblems([(0, f"not UTF-8 text ({error.reason} at byte {error.start})")]) from None
    except OSError as error:
        raise FileProblems([(0, f"cannot be read ({error.strerror})")]) from None
    # Strict: a stray or unclosed quote is an error, not a cell that swallows the lines after it.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FileProblems([(1, _not_csv(error))]) from None
    if header is None:
        raise FileProblems([(1, "the file is empty; the first line must be the header")])
    problems = header_problems(header)
    if problems:
        raise FileProblems([(1, p) for p in problems])
    rows = []
    last = reader.line_num
    try:
        for cells in reader:
            # A record may span lines (a quoted line break): it is reported by the line it starts on.
            start, last = last + 1, reader.line_num
            # Blank, or nothing but control characters (which cell_text drops): not a row.
            if not any(cell_text(cell) for cell in cells):
                continue
            rows.append((start, _row(header, cells)))
    except csv.Error as error:
        raise FileProblems([(last + 1, _not_csv(error))]) from None
    return rows


def _row(header: list[str], cells: list[str]) -> dict[str | None, Any]:
    """Column -> cell, as csv.DictReader gives it: a column with no cell gets None, and cells beyond
    the header are listed under the key None."""
    row: dict[str | None, Any] = {name: cells[i] if i < len(cells) else None for i, name in enumerate(header)}
    if len(cells) > len(header):
        row[None] = cells[len(header) :]
    return row


def _not_csv(error: csv.Error) -> str:
    if "unexpected end of data" in str(error):
        return "a quoted cell that starts on this line is never closed"
    return f"not valid CSV ({error})"
