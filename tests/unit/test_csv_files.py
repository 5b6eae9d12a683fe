"""The CSV reader of every import (bot/services/csv_files.py): rows by the line they start on, blank
lines skipped, surplus cells kept apart, and a file that is not CSV refused by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.people import FileProblems
from bot.services.csv_files import read_csv


def read(tmp_path: Path, text: str) -> list[tuple[int, dict[str | None, object]]]:
    path = tmp_path / "file.csv"
    path.write_bytes(text.encode("utf-8"))
    return read_csv(path, lambda header: [] if header[:2] == ["a", "b"] else ["wrong header"])


def test_rows_come_with_the_line_they_start_on(tmp_path: Path) -> None:
    rows = read(tmp_path, '\ufeffa,b\r\n1,"two\nlines"\n\n , \n3,4,5\n6\n')
    assert rows == [
        (2, {"a": "1", "b": "two\nlines"}),
        (6, {"a": "3", "b": "4", None: ["5"]}),
        (7, {"a": "6", "b": None}),
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ('a,b\n1,"open\n2,3\n4,5\n', 2, "a quoted cell that starts on this line is never closed"),
        ('a,b\n1,2\n3,"x"y\n', 3, "not valid CSV"),
        ("", 1, "the file is empty"),
        ("x,y\n1,2\n", 1, "wrong header"),
    ],
)
def test_a_file_that_is_not_csv_is_refused_by_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    with pytest.raises(FileProblems) as raised:
        read(tmp_path, text)
    ((found_line, found),) = raised.value.problems
    assert found_line == line and problem in found
