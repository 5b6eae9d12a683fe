"""Rate limits and injected faults for the Slack emulator.

Real Slack answers 429 with ``Retry-After`` when an app goes over a method's tier or posts faster
than about one message per second into a channel, and it occasionally fails (5xx) or answers late.
The bot has to survive all of that, so tests switch these behaviours on at run time. This module holds
only the bookkeeping and the decisions; the test emulator (``emulator.py``) consults it from the
emulator's ``intercept`` extension point, with the emulator's lock held, so nothing here locks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from bot.domain.recipient import is_dm_channel, is_user_id
from bot.emulator import Intercept
from bot.emulator.workspace import Workspace, dm_channel_id


@dataclass
class TokenBucket:
    """Classic token bucket: ``capacity`` calls at once, refilled at ``rate`` calls per second."""

    rate: float
    capacity: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("a rate limit needs rate > 0 and capacity >= 1")
        self.tokens = self.capacity
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self) -> bool:
        self._refill()
        return self.tokens >= 1

    def take(self) -> bool:
        if not self.available():
            return False
        self.tokens -= 1
        return True

    def seconds_to_token(self) -> float:
        """How long until the bucket holds a whole token again (0 when it does now)."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)


def retry_after_header(seconds: float) -> int:
    """Slack's Retry-After: whole seconds until a call may succeed, at least 1."""
    return max(1, math.ceil(seconds))


@dataclass
class MethodLimit:
    """Workspace-wide limit for one Web API method (one bucket per configured window); `retry_after`
    None: say how long until the buckets have a token again, as Slack does."""

    buckets: list[TokenBucket]
    retry_after: int | None

    def retry_after_seconds(self) -> int:
        if self.retry_after is not None:
            return self.retry_after
        return retry_after_header(max(bucket.seconds_to_token() for bucket in self.buckets))


@dataclass
class ChannelLimit:
    """chat.postMessage limit applied to each channel separately."""

    per_second: float
    burst: int
    retry_after: int
    clock: Callable[[], float]
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def bucket(self, channel: str) -> TokenBucket:
        if channel not in self.buckets:
            self.buckets[channel] = TokenBucket(self.per_second, self.burst, self.clock)
        return self.buckets[channel]


@dataclass
class FailRule:
    """``fail_next``: answer the next ``remaining`` matching calls with an error, without applying them."""

    method: str
    remaining: int
    status: int
    error: str
    retry_after: int | None
    target: str | None


@dataclass
class HangRule:
    """``hang_next``: answer the next ``remaining`` calls ``seconds`` late (optionally not applying them)."""

    method: str
    remaining: int
    seconds: float
    apply: bool


@dataclass(frozen=True)
class Hang:
    seconds: float
    apply: bool


class FaultPlan:
    """Everything that makes the emulator misbehave on purpose."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.latency = 0.0
        self.method_limits: dict[str, MethodLimit] = {}
        self.channel_limit: ChannelLimit | None = None
        self.fail_rules: list[FailRule] = []
        self.hang_rules: list[HangRule] = []

    def clear(self) -> None:
        self.latency = 0.0
        self.method_limits.clear()
        self.channel_limit = None
        self.fail_rules.clear()
        self.hang_rules.clear()

    # -- configuration ---------------------------------------------------------------------------

    def set_rate_limit(
        self,
        method: str,
        per_minute: float | None = None,
        per_second: float | None = None,
        retry_after: int | None = None,
        burst: int | None = None,
    ) -> None:
        """Limit ``method``; the burst defaults to one window's worth (``per_minute=3``: 3 calls, then 429).

        Both windows may be given; a call then needs a token from each. Passing neither removes the limit.
        ``retry_after`` None: each 429 says how many whole seconds until a call would pass (at least 1),
        as Slack's does; a number: always that.
        """
        buckets: list[TokenBucket] = []
        if per_minute is not None:
            capacity = burst if burst is not None else max(1, int(per_minute))
            buckets.append(TokenBucket(per_minute / 60.0, capacity, self.clock))
        if per_second is not None:
            capacity = burst if burst is not None else max(1, int(per_second))
            buckets.append(TokenBucket(per_second, capacity, self.clock))
        if buckets:
            self.method_limits[method] = MethodLimit(buckets, retry_after)
        else:
            self.method_limits.pop(method, None)

    def set_channel_rate_limit(
        self, per_second: float | None = 1.0, burst: int = 3, retry_after: int = 1
    ) -> None:
        self.channel_limit = (
            None if per_second is None else ChannelLimit(per_second, burst, retry_after, self.clock)
        )

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 500,
        error: str = "internal_error",
        retry_after: int | None = None,
        target: str | None = None,
    ) -> None:
        self.fail_rules.append(FailRule(method, count, status, error, retry_after, target))

    def hang_next(self, method: str, seconds: float, count: int = 1, apply: bool = True) -> None:
        self.hang_rules.append(HangRule(method, count, seconds, apply))

    # -- decisions (each consumes what it matches) ----------------------------------------------

    def take_failure(self, method: str, targets: Collection[str]) -> FailRule | None:
        for rule in self.fail_rules:
            if rule.method == method and (rule.target is None or rule.target in targets):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.fail_rules.remove(rule)
                return rule
        return None

    def take_rate(self, method: str, channel: str | None) -> int | None:
        """Consume a token for the call; returns the Retry-After seconds when over a limit."""
        limit = self.method_limits.get(method)
        channel_bucket = None
        if self.channel_limit is not None and method == "chat.postMessage" and channel:
            channel_bucket = self.channel_limit.bucket(channel)
        # Check everything before taking anything, so a refused call costs no tokens.
        if limit is not None and not all(bucket.available() for bucket in limit.buckets):
            return limit.retry_after_seconds()
        if channel_bucket is not None and not channel_bucket.available():
            assert self.channel_limit is not None
            return self.channel_limit.retry_after
        if limit is not None:
            for bucket in limit.buckets:
                bucket.take()
        if channel_bucket is not None:
            channel_bucket.take()
        return None

    def take_hang(self, method: str) -> Hang | None:
        for rule in self.hang_rules:
            if rule.method == method:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.hang_rules.remove(rule)
                return Hang(rule.seconds, rule.apply)
        return None

    def decide(self, method: str, targets: Collection[str], channel: str | None) -> Intercept | None:
        """The fault for one call, consuming what it matches: a failure, a 429, a hang, or None.

        ``targets`` are the channel / user ids the call is about (see ``targets``); ``channel`` is the
        channel a chat.postMessage lands in, for the per-channel limit. Checked in that order, as Slack
        refuses a call before counting it against a limit.
        """
        rule = self.take_failure(method, targets)
        if rule is not None:
            headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
            return Intercept(answer=(rule.status, {"ok": False, "error": rule.error}, headers))
        retry_after = self.take_rate(method, channel)
        if retry_after is not None:
            limited = {"ok": False, "error": "ratelimited"}
            return Intercept(answer=(429, limited, {"Retry-After": str(retry_after)}))
        hang = self.take_hang(method)
        if hang is None:
            return None
        if not hang.apply:
            return Intercept(answer=(504, {"ok": False, "error": "request_timeout"}, {}), delay=hang.seconds)
        return Intercept(delay=hang.seconds)


def targets(ws: Workspace, params: dict[str, Any]) -> set[str]:
    """Every channel / user id a call is about, for ``fail_next(channel=...)`` matching.

    A person's id and their DM channel id stand for each other, so a rule for either matches both.
    """
    found: set[str] = set()
    for key in ("channel", "user", "users", "user_id"):
        value = params.get(key)
        if isinstance(value, str) and value:
            found.update(part.strip() for part in value.split(","))
    for value in list(found):
        if is_user_id(value):
            found.add(dm_channel_id(value))
        elif is_dm_channel(value) and (user := ws.user_by_dm(value)) is not None:
            found.add(user.id)
    return found
