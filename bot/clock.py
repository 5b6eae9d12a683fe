"""The clocks AccessBot reads. Everything that decides by time (grant and request expiry, scheduled
directives, response_url lifetimes, outbox retries, audit stamps) reads one injected clock, so that a
test can move time forward instead of waiting for it.

- `system_clock`: real UTC time; what production runs on.
- `FileClock`: a test clock shared by every process of one test (`serve`, `worker`, the CLI), selected by
  the ACCESSBOT_CLOCK_FILE setting. The file holds an ISO-8601 instant T; the clock reads T plus the real
  time elapsed since the file was last written (its modification time), so time keeps flowing (retries
  and back-offs fall due) and every process agrees on it. `advance` rewrites the file.

Slack's request-signature window is not business time: it is checked against real time whatever clock
the bot runs on (see bot/slack/edge.py).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import ConfigError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC (timezone-aware)."""
    return datetime.now(UTC)


class ClockFileError(ConfigError):
    """The clock file is missing or does not hold an ISO-8601 instant with a time zone (a setting at
    fault: ACCESSBOT_CLOCK_FILE)."""


class FileClock:
    """A clock read from a file (see the module docstring). Thread-safe; the file is re-read only when
    its modification time changes."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[tuple[int, int], datetime] | None = None  # ((inode, mtime ns), instant held)

    @classmethod
    def create(cls, path: Path, at: datetime | None = None) -> FileClock:
        """Write a clock file reading `at` now (default: real time) and return its clock."""
        clock = cls(path)
        clock.set(at or system_clock())
        return clock

    def __call__(self) -> datetime:
        (_, mtime), instant = self._read()
        return instant + timedelta(seconds=max(0.0, time.time() - mtime / 1e9))

    def set(self, at: datetime) -> None:
        """Make the clock read `at` now (aware datetime)."""
        if at.tzinfo is None:
            raise ClockFileError("a clock needs a time zone")
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_text(at.astimezone(UTC).isoformat(), encoding="ascii")
        os.replace(temporary, self.path)  # readers never see a half-written instant

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move the clock forward by `delta` (or `timedelta(**units)`, e.g. `days=2`); returns the new
        reading."""
        later = self() + (delta if delta is not None else timedelta(**units))
        self.set(later)
        return later

    def _read(self) -> tuple[tuple[int, int], datetime]:
        try:
            stat = self.path.stat()
            # os.replace makes a new inode, so two writes within one mtime tick still differ.
            version = (stat.st_ino, stat.st_mtime_ns)
        except OSError as error:
            raise ClockFileError(
                f"ACCESSBOT_CLOCK_FILE: {self.path} cannot be read ({error.strerror})"
            ) from None
        with self._lock:
            if self._seen is None or self._seen[0] != version:
                text = self.path.read_text(encoding="ascii", errors="replace").strip()
                try:
                    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise ClockFileError(
                        f"ACCESSBOT_CLOCK_FILE: {self.path} does not hold an ISO-8601 time"
                    ) from None
                if instant.tzinfo is None:
                    raise ClockFileError(f"ACCESSBOT_CLOCK_FILE: the time in {self.path} needs a time zone")
                self._seen = (version, instant.astimezone(UTC))
            return self._seen


def clock_for(clock_file: Path | None) -> Clock:
    """The clock a program runs on: the file clock when ACCESSBOT_CLOCK_FILE is set, else real time.

    Raises ClockFileError if the file is set but unreadable (checked once here, so a wrong path stops the
    program at start rather than at the first transaction)."""
    if clock_file is None:
        return system_clock
    clock = FileClock(clock_file)
    clock()
    return clock
