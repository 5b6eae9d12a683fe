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
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        raise FileProblems([(1, "the file is empty; the first line must be the header")])
    problems = header_problems(list(reader.fieldnames))
    if problems:
        raise FileProblems([(1, p) for p in problems])
    rows = []
    try:
        for row in reader:
            # Blank, or nothing but control characters (which cell_text drops): not a row.
            if not any(cell_text(value) for key, value in row.items() if key is not None):
                continue
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise FileProblems([(reader.line_num, f"not valid CSV ({error})")]) from None
    return rows
