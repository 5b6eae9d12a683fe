"""The test clock that `serve`, `worker` and the CLI share through ACCESSBOT_CLOCK_FILE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ClockFileError, FileClock, clock_for, system_clock


def test_every_reader_of_the_file_sees_the_same_time_and_it_keeps_flowing(tmp_path: Path) -> None:
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    writer = FileClock.create(tmp_path / "clock", start)
    reader = FileClock(tmp_path / "clock")
    first = reader()
    assert start <= first < start + timedelta(minutes=1)
    assert reader() >= first  # real time passes on top of the instant in the file
    assert abs(writer() - reader()) < timedelta(seconds=5)


def test_advancing_moves_every_reader_forward(tmp_path: Path) -> None:
    writer = FileClock.create(tmp_path / "clock")
    reader = FileClock(tmp_path / "clock")
    before = reader()
    writer.advance(days=2)
    assert reader() - before >= timedelta(days=2)
    writer.advance(timedelta(hours=1))
    writer.advance(hours=1)  # two writes in quick succession are both seen
    assert reader() - before >= timedelta(days=2, hours=2)


def test_without_a_file_the_program_runs_on_real_time() -> None:
    assert clock_for(None) is system_clock
    assert abs(system_clock() - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read"),
        ("soon", "does not hold an ISO-8601 time"),
        ("2026-11-27T09:00:00", "time zone"),
    ],
)
def test_a_missing_or_wrong_clock_file_stops_the_program_at_start(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "clock"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ClockFileError, match=problem):
        clock_for(path)
