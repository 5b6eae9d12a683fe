"""The test suite's ``SlackEmulator``: the shipped emulator plus fault injection and inspection.

Faults (rate limits, failures, hangs, latency) plug into the shipped emulator's extension points
(``before_call``, ``intercept``); the rest reads or changes the workspace the way a test needs to
(a person deactivated mid-test, the clock moved 31 minutes on, every ephemeral a person saw).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot import emulator
from bot.emulator import Intercept
from bot.emulator import views as view_records
from bot.emulator.workspace import dm_channel_id

from .faults import FaultPlan, targets


class SlackEmulator(emulator.SlackEmulator):
    """``bot.emulator.SlackEmulator`` that can be told to rate-limit, fail or stall, and inspected."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Arguments as for ``bot.emulator.SlackEmulator``; no faults at first."""
        super().__init__(*args, **kwargs)
        self._faults = FaultPlan()

    # -- changing the workspace mid-test ---------------------------------------------------------

    def set_user(self, user_id: str, **changes: Any) -> None:
        """Change a person mid-test (e.g. ``deleted=True`` to model a deactivation)."""
        with self.lock:
            user = self.workspace.users[user_id]
            for key, value in changes.items():
                if not hasattr(user, key):
                    raise AttributeError(f"User has no field {key!r}")
                setattr(user, key, value)

    def set_channel(self, channel_id: str, **changes: Any) -> None:
        """Change a channel mid-test (e.g. ``is_archived=True``)."""
        with self.lock:
            channel = self.workspace.channels[channel_id]
            for key, value in changes.items():
                if not hasattr(channel, key):
                    raise AttributeError(f"Channel has no field {key!r}")
                setattr(channel, key, value)

    @staticmethod
    def dm_channel_id(user_id: str) -> str:
        """The DM channel id the emulator uses for ``user_id`` (``D`` + the id without its first letter)."""
        return dm_channel_id(user_id)

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward by ``seconds``, as if that much time had passed.

        Trigger ids (``trigger_ttl``) and response URLs (30 minutes, 5 uses) expire by this clock, so a
        test reaches "31 minutes later" without sleeping. Message ``ts`` values and rate limits keep
        following real time. Raises ValueError for a negative ``seconds``.
        """
        if seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        with self.lock:
            self.workspace.offset += seconds

    def close_view(self, view_id: str, whole_stack: bool = False) -> None:
        """Mark a modal closed (the person pressed Cancel/X, or a submission closed it)."""
        with self.lock:
            view_records.close_view(self.workspace, view_id, whole_stack)

    # -- faults ----------------------------------------------------------------------------------

    def set_rate_limit(
        self,
        method: str,
        per_minute: float | None = None,
        per_second: float | None = None,
        retry_after: int | None = None,
        burst: int | None = None,
    ) -> None:
        """Workspace-wide token bucket for ``method``; over it: HTTP 429 + Retry-After, call not applied.

        The burst defaults to one window's worth, so ``per_minute=3`` allows 3 calls at once and then
        one every 20 s. Retry-After says how many whole seconds until a call would pass (at least 1), as
        Slack's does, unless ``retry_after`` fixes it. Call with neither rate to remove the limit.
        """
        with self.lock:
            self._faults.set_rate_limit(method, per_minute, per_second, retry_after, burst)

    def set_channel_rate_limit(
        self, per_second: float | None = 1.0, burst: int = 3, retry_after: int = 1
    ) -> None:
        """chat.postMessage limit per channel (Slack: about one per second, short bursts); None disables."""
        with self.lock:
            self._faults.set_channel_rate_limit(per_second, burst, retry_after)

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 500,
        error: str = "internal_error",
        retry_after: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls (only those about ``channel``/user, if given) with an error."""
        with self.lock:
            self._faults.fail_next(method, count, status, error, retry_after, channel)

    def hang_next(self, method: str, seconds: float, count: int = 1, apply: bool = True) -> None:
        """Answer the next ``count`` calls ``seconds`` late.

        ``apply=True``: the call takes effect at once and only the answer is late ("Slack did it but the
        client timed out"). ``apply=False``: nothing happens and the late answer is HTTP 504
        ``request_timeout`` ("the request was lost").
        """
        with self.lock:
            self._faults.hang_next(method, seconds, count, apply)

    def set_latency(self, seconds: float) -> None:
        """Hold every authenticated call back ``seconds`` before it runs."""
        with self.lock:
            self._faults.latency = seconds

    def clear_faults(self) -> None:
        """Remove every rate limit, pending failure and hang, and the latency."""
        with self.lock:
            self._faults.clear()

    def before_call(self, method: str) -> None:
        with self.lock:
            latency = self._faults.latency
        self.pause(latency)

    def intercept(self, method: str, params: dict[str, Any]) -> Intercept | None:
        return self._faults.decide(method, targets(self.workspace, params), self._rate_key(method, params))

    def _rate_key(self, method: str, params: dict[str, Any]) -> str | None:
        """The channel a chat.postMessage lands in (the DM for a user id), for the per-channel limit."""
        if method != "chat.postMessage":
            return None
        channel = params.get("channel")
        if not isinstance(channel, str) or not channel:
            return None
        return self.workspace.channel_for_user_or_id(channel)

    # -- recorded traffic ------------------------------------------------------------------------

    def reset_calls(self) -> None:
        """Forget the Web API calls recorded so far."""
        with self.lock:
            self._calls.clear()

    @property
    def warnings(self) -> list[str]:
        """Things Slack accepts but changes or nobody will see (text truncated at 40,000 chars, a DM to
        a deactivated person)."""
        with self.lock:
            return list(self.workspace.warnings)

    # -- queries ---------------------------------------------------------------------------------

    def dm_texts(self, user_id: str) -> list[str]:
        """The top-level text of each message in the person's DM, oldest first."""
        return [m["text"] for m in self.messages(user_id)]

    def channel_texts(self, channel_id: str) -> list[str]:
        """The top-level text of each message in the channel, oldest first."""
        return [m["text"] for m in self.messages(channel_id)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message ``ts`` of a channel (a user id means their DM), or None."""
        with self.lock:
            found = self.workspace.find_message(self.workspace.channel_for_user_or_id(channel), ts)
            return copy.deepcopy(found)

    def find_messages(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Messages in every channel and DM matching ``predicate``, in ts order."""
        with self.lock:
            everything = [m for msgs in self.workspace.messages.values() for m in msgs]
            snapshot = copy.deepcopy(sorted(everything, key=lambda m: Decimal(m["ts"])))
        return [m for m in snapshot if predicate(m)]

    def deleted_messages(self) -> list[dict[str, Any]]:
        """Messages removed through ``delete_original``."""
        with self.lock:
            return copy.deepcopy(self.workspace.deleted_messages)

    def ephemerals(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and response_url replies), oldest first.

        Each has ``channel, user, ts, text, blocks, source`` (``chat.postEphemeral`` or ``response_url``)
        and ``edited`` (previous versions after ``replace_original``).
        """
        with self.lock:
            return copy.deepcopy(
                [e for e in self.workspace.ephemerals if user_id is None or e["user"] == user_id]
            )

    def responses(self, url_or_id: str | None = None) -> list[dict[str, Any]]:
        """POSTs to response URLs: ``url_id, at, raw, body, status, answer, result`` each."""
        with self.lock:
            if url_or_id is None:
                posts = [p for r in self.workspace.response_urls.values() for p in r.posts]
                return copy.deepcopy(sorted(posts, key=lambda p: p["at"]))
            target = self.workspace.response_urls.get(url_or_id.rstrip("/").rsplit("/", 1)[-1])
            return copy.deepcopy(target.posts) if target else []

    def open_modals(self, user_id: str) -> list[dict[str, Any]]:
        """The person's modal stack as currently shown, bottom first."""
        with self.lock:
            return copy.deepcopy(view_records.open_stack(self.workspace, user_id))

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The person's Home tab view as last published, or None."""
        with self.lock:
            view_id = self.workspace.home_by_user.get(user_id)
            return copy.deepcopy(self.workspace.views[view_id]) if view_id else None
