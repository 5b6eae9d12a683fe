"""The workspace-wide pace of chat.postMessage, kept by each sender.

Slack states two limits for posting (https://api.slack.com/methods/chat.postMessage, "Rate limiting"):
about one message per second into one channel (bot/notify/pacing.py keeps that per lane), and a limit
per workspace of "several hundred messages per minute" with short bursts. A sender that posts as fast as
its workers go learns the second one only from 429s, each of which stalls every post for Retry-After.
PostRate spaces posts at the stated rate instead (a token bucket of one second's burst, as a schedule of
reserved send times, so that concurrent workers never share a slot; the burst is a second's worth of the
current pace, so a slowed pace never bursts at the stated one), and adapts when Slack still says
429: nothing newly reserved goes before Retry-After has passed, and when 429s come again within
REPEAT_WINDOW (another sender on the same workspace, a lower limit than stated) the pace halves; once
REPEAT_WINDOW has passed without one it climbs back, by a twentieth of the stated rate a second.
Times are `time.monotonic()` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Slack's documentation says "several hundred messages per minute" for a workspace; the low end of that
# is what a sender can count on without being told more (ACCESSBOT_SLACK_POSTS_PER_MINUTE).
DEFAULT_POSTS_PER_MINUTE = 300.0
SLOWEST_FRACTION = 1 / 16  # how far repeated 429s may slow the pace, of the stated rate
RECOVERY_PER_SECOND = 0.05  # of the stated rate, regained per second once REPEAT_WINDOW is quiet
# A lone 429 is a timing accident at the edge of the limit (Slack's window and ours never line up
# exactly); a second one this soon after means the limit is lower than the pace.
REPEAT_WINDOW = 10.0


class PostRate:
    """Send times for chat.postMessage at `per_minute`, with a burst of one second's worth, adapting to
    429s. Safe to share between threads."""

    def __init__(
        self, per_minute: float = DEFAULT_POSTS_PER_MINUTE, clock: Callable[[], float] = time.monotonic
    ):
        if per_minute <= 0:
            raise ValueError("posts per minute must be positive")
        self.stated = per_minute / 60.0  # posts per second
        self.rate = self.stated
        self._clock = clock
        self._lock = threading.Lock()
        # The generic cell rate algorithm's schedule: when the bucket would be full again. A post may go
        # once that is at most `burst - 1` intervals away.
        self._full_at = clock()
        self._recovered_at = self._full_at
        self._resumed_at: float | None = None  # when the last 429's pause ended

    @property
    def burst(self) -> float:
        """How many posts may go at once after an idle spell: one second's worth at the current pace."""
        return max(1.0, self.rate)

    def reserve(self) -> float:
        """Take the next send slot; returns how many seconds to wait before posting (0: post now)."""
        with self._lock:
            now = self._clock()
            self._recover(now)
            interval = 1.0 / self.rate
            full_at = max(self._full_at, now)
            send_at = max(now, full_at - (self.burst - 1.0) * interval)
            self._full_at = full_at + interval
            return send_at - now

    def limited(self, retry_after: float) -> None:
        """Slack answered 429 with `retry_after` seconds: nothing newly reserved goes before then (slots
        already handed out stand). A 429 to a post sent after the last pause ended, within REPEAT_WINDOW
        of it, halves the pace."""
        with self._lock:
            now = self._clock()
            self._recover(now)
            resumed = self._resumed_at
            if resumed is not None and resumed <= now < resumed + REPEAT_WINDOW:
                self.rate = max(self.stated * SLOWEST_FRACTION, self.rate / 2)
            self._resumed_at = max(resumed or now, now + retry_after)
            # No burst after a pause: the first post goes when Retry-After has passed, the next one an
            # interval later.
            resume = self._resumed_at + (self.burst - 1.0) / self.rate
            self._full_at = max(self._full_at, resume)

    def _recover(self, now: float) -> None:
        quiet_since = max(self._recovered_at, (self._resumed_at or now) + REPEAT_WINDOW)
        if self.rate < self.stated and now > quiet_since:
            regained = (now - quiet_since) * RECOVERY_PER_SECOND * self.stated
            self.rate = min(self.stated, self.rate + regained)
        self._recovered_at = max(self._recovered_at, now)
