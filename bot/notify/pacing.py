"""Slack's pace, kept in memory by each sender: Web API methods paused for a rate limit's Retry-After,
and a token bucket per lane so that posts to one channel go at about one a second (short bursts
allowed). Times are `time.monotonic()` seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

LANE_RATE = 1.0  # posts per second per channel
LANE_BURST = 3.0
# Past this many lanes, those whose bucket has refilled are forgotten.
MAX_LANES = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Pacing:
    """Pauses per Web API method and posting tokens per lane; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused_until: dict[str, float] = {}
        self._buckets: dict[str, _Bucket] = {}

    def pause(self, method: str, seconds: float) -> None:
        """Hold back every call of `method` for `seconds` from now (never shortens a longer pause)."""
        with self._lock:
            until = time.monotonic() + seconds
            self._paused_until[method] = max(self._paused_until.get(method, 0), until)

    def paused_kinds(self, method_of_kind: Mapping[str, str]) -> list[str]:
        """The outbox kinds whose method (`method_of_kind[kind]`) is paused now."""
        now = time.monotonic()
        with self._lock:
            return [
                kind for kind, method in method_of_kind.items() if self._paused_until.get(method, 0) > now
            ]

    def idle_wait(self, poll_seconds: float) -> float:
        """How long a dispatcher with nothing to do may sleep: until the next poll, or until a pause
        ends or a lane out of tokens has one again if that is sooner (at least 10 ms). Without the
        lanes, a message held back by its lane's pace waited for the poll, up to a second longer."""
        now = time.monotonic()
        with self._lock:
            pauses = [until - now for until in self._paused_until.values() if until > now]
            refills = [
                (1.0 - tokens) / LANE_RATE
                for b in self._buckets.values()
                if (tokens := b.tokens + (now - b.updated) * LANE_RATE) < 1.0
            ]
        return max(0.01, min([poll_seconds, *pauses, *refills]))

    def lanes_without_tokens(self) -> list[str]:
        """Lanes that may not post now: their bucket holds less than one token."""
        now = time.monotonic()
        with self._lock:
            return [
                lane for lane, b in self._buckets.items() if b.tokens + (now - b.updated) * LANE_RATE < 1.0
            ]

    def take_token(self, lane: str) -> None:
        """Spend one token of the lane's bucket for a post (a new lane starts with a full burst)."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(lane) or _Bucket(LANE_BURST, now)
            bucket.tokens = min(LANE_BURST, bucket.tokens + (now - bucket.updated) * LANE_RATE) - 1.0
            bucket.updated = now
            self._buckets[lane] = bucket
            if len(self._buckets) > MAX_LANES:
                full = [
                    k
                    for k, b in self._buckets.items()
                    if b.tokens + (now - b.updated) * LANE_RATE >= LANE_BURST
                ]
                for key in full:
                    del self._buckets[key]
