"""The audit chain: each sealed audit event carries the hash of the one before it, so that changing,
removing, inserting or reordering any event breaks the chain from that event on.

An event's hash is SHA-256 over its canonical encoding (`canonical`): every column, including its place
in the chain (`seq`, counted from 1 without gaps) and the hash of the event before it (`prev_hash`; 64
zeros for the first). README "The tamper-evident audit trail" says how to recompute one by hand.

`ChainWalk` checks a chain fed to it event by event in `seq` order, in constant memory, against the
checkpoints recorded along the way. Everything here is pure: the store streams rows into it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

GENESIS = "0" * 64
# The columns an event's hash covers, by name (the canonical encoding sorts them).
HASHED = (
    "id",
    "seq",
    "prev_hash",
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "detail",
)
# An event may be this much older than the newest one sealed before it: the transaction that wrote it
# was still open while later ones committed and were sealed (a directive over 100,000 grants takes
# seconds). An event older than that, sealed or not, was put in behind the chain's back. Nor is any
# event dated further than this ahead of the clock that seals or checks it (replicas' clocks differ by
# seconds): it was written with a date chosen to make later, honest events look inserted out of order.
LATE_COMMIT_TOLERANCE = timedelta(minutes=10)


def dated_ahead(at: datetime, now: datetime) -> bool:
    """Whether an event dated `at` is dated ahead of `now` by more than LATE_COMMIT_TOLERANCE: no
    transaction of AccessBot's wrote it. `now` is the clock's time, or the date of an event written
    after it (a later id): ids are handed out as events are written, so an event dated well after one
    written later was dated ahead when it was written, whatever the clock says by now."""
    return at > now + LATE_COMMIT_TOLERANCE


def first_dated_ahead(events: Iterable[tuple[int, datetime]], now: datetime) -> tuple[int, datetime] | None:
    """Of unsealed events (id, at) given newest id first, the oldest by id that is dated ahead (see
    dated_ahead) of the clock `now` or of an event written after it; None when there is none."""
    found: tuple[int, datetime] | None = None
    earliest_later: datetime | None = None
    for event_id, at in events:
        if dated_ahead(at, now) or (earliest_later is not None and dated_ahead(at, earliest_later)):
            found = (event_id, at)
        earliest_later = at if earliest_later is None else min(earliest_later, at)
    return found


Problem = Literal["changed", "removed", "inserted", "reordered", "rewritten"]


def iso_at(at: datetime) -> str:
    """`at` as the encoding writes it: ISO 8601 in UTC with microseconds and `Z`,
    e.g. `2026-12-02T10:00:00.000000Z`. Raises ValueError for a naive datetime."""
    if at.tzinfo is None:
        raise ValueError("an audit event's time must carry its zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: a JSON object of exactly the HASHED columns, keys sorted,
    no whitespace, every non-ASCII character escaped as `\\uXXXX` (so the bytes are ASCII), `at` as
    iso_at, and before/after/detail as the JSON they hold (null when empty). `event` maps each HASHED
    name to its value; a missing one raises KeyError."""
    fields = {name: event[name] for name in HASHED}
    fields["at"] = iso_at(fields["at"])
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 of canonical(event), as 64 lower-case hex digits."""
    return hashlib.sha256(canonical(event)).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head as recorded (and posted) at a moment: the hash of event `seq`."""

    id: int
    seq: int
    hash: str
    at: datetime


@dataclass(frozen=True)
class Finding:
    """The first thing wrong with the chain: which event (`event_id` None when it is gone), at which
    `seq`, what kind of tampering it shows, and a sentence saying so."""

    problem: Problem
    seq: int
    event_id: int | None
    message: str


def _named(event_id: int | None, seq: int) -> str:
    return f"event {event_id} (seq {seq})" if event_id is not None else f"seq {seq}"


@dataclass
class ChainWalk:
    """Checks sealed events fed in `seq` order (`feed`), then the end of the chain (`finish`). Keeps
    only the running head, so a chain of any length is checked in constant memory. `checkpoints`: every
    recorded checkpoint; each must agree with the chain at its seq. `dated_after`: the seq of the last
    event the migration that started the chain sealed (`audit.chain_started`); events up to it were
    sealed in id order as history found them, so only later ones must be in date order (within
    LATE_COMMIT_TOLERANCE). `now`: the time of the check; an event dated ahead of it (dated_ahead) was
    put in behind the chain's back."""

    checkpoints: Iterable[Checkpoint] = ()
    dated_after: int = 0
    now: datetime | None = None
    count: int = 0
    head_hash: str = GENESIS
    head_id: int | None = None
    latest_at: datetime | None = None
    finding: Finding | None = None
    _pending: list[Checkpoint] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pending = sorted(self.checkpoints, key=lambda c: (c.seq, c.id), reverse=True)

    def feed(self, event: Mapping[str, Any]) -> Finding | None:
        """Check the next event (its HASHED columns and `hash`); returns the first finding, and keeps
        returning it once there is one."""
        if self.finding is not None:
            return self.finding
        seq, event_id = event["seq"], event["id"]
        expected = self.count + 1
        if seq > expected:
            missing = f"seq {expected}" if seq == expected + 1 else f"seq {expected} to {seq - 1}"
            return self._found(
                "removed", expected, event_id,
                f"{missing} is missing before {_named(event_id, seq)}: audit events were removed",
            )  # fmt: skip
        if seq < expected:
            return self._found(
                "reordered", seq, event_id,
                f"{_named(event_id, seq)} repeats a place in the chain already taken: events were reordered",
            )  # fmt: skip
        if event["prev_hash"] != self.head_hash:
            before = _named(self.head_id, self.count) if self.count else "the start of the chain"
            return self._found(
                "reordered", seq, event_id,
                f"{_named(event_id, seq)} does not follow {before}: an event was inserted, removed or "
                "reordered between them",
            )  # fmt: skip
        try:
            recomputed = event_hash(event)
        except (TypeError, ValueError):
            recomputed = None
        if recomputed != event["hash"]:
            return self._found(
                "changed", seq, event_id,
                f"{_named(event_id, seq)} does not match its hash: it was changed (or swapped with another "
                "event, or inserted)",
            )  # fmt: skip
        if self.now is not None and dated_ahead(event["at"], self.now):
            return self._found(
                "inserted", seq, event_id,
                f"{_named(event_id, seq)} is dated {iso_at(event['at'])}, after this check "
                f"({iso_at(self.now)}): it was put in behind the chain's back",
            )  # fmt: skip
        dated = seq > self.dated_after
        if dated and self.latest_at is not None and event["at"] < self.latest_at - LATE_COMMIT_TOLERANCE:
            # Sealed in its place, but dated well before events sealed earlier: written behind the
            # chain's back and then sealed, not a transaction that committed a little late.
            return self._found(
                "inserted", seq, event_id,
                f"{_named(event_id, seq)} is dated {iso_at(event['at'])}, before the chain's newest event "
                f"ahead of it ({iso_at(self.latest_at)}): it was inserted out of order",
            )  # fmt: skip
        self.count, self.head_hash, self.head_id = seq, event["hash"], event_id
        if seq >= self.dated_after and (self.latest_at is None or event["at"] > self.latest_at):
            self.latest_at = event["at"]
        while self._pending and self._pending[-1].seq <= seq:
            checkpoint = self._pending.pop()
            if checkpoint.seq == seq and checkpoint.hash != self.head_hash:
                return self._found(
                    "rewritten", seq, event_id,
                    f"{_named(event_id, seq)} disagrees with checkpoint C{checkpoint.id} of "
                    f"{iso_at(checkpoint.at)}: the history up to it was rewritten",
                )  # fmt: skip
        return None

    def finish(self, recorded_head: int) -> Finding | None:
        """After the last sealed event: the chain must reach `recorded_head` (the last seq the sealer
        wrote) and every checkpoint. Returns the first finding, if any."""
        if self.finding is not None:
            return self.finding
        reach = max([recorded_head, *(c.seq for c in self._pending)])
        if reach > self.count:
            after = f"after {_named(self.head_id, self.count)}" if self.count else "at all"
            return self._found(
                "removed", self.count + 1, None,
                f"the chain ends {after}, but seq {reach} was sealed: the last events were removed",
            )  # fmt: skip
        return None

    def late_insertion(self, event_id: int, at: datetime) -> Finding | None:
        """An event not sealed yet, dated `at`: an insertion out of order when it is older than the newest
        sealed event by more than LATE_COMMIT_TOLERANCE. Returns the first finding, if any."""
        if self.finding is not None:
            return self.finding
        if self.latest_at is None or at >= self.latest_at - LATE_COMMIT_TOLERANCE:
            return None
        return self._found(
            "inserted", self.count + 1, event_id,
            f"event {event_id} is not sealed and is dated {iso_at(at)}, before the sealed chain's newest "
            f"event ({iso_at(self.latest_at)}): it was inserted out of order",
        )  # fmt: skip

    def future_insertion(self, found: tuple[int, datetime] | None) -> Finding | None:
        """An event not sealed yet (id, at) that first_dated_ahead found: put in behind the chain's
        back (the sealer leaves such an event unsealed). Returns the first finding, if any."""
        if self.finding is not None or found is None:
            return self.finding
        event_id, at = found
        return self._found(
            "inserted", self.count + 1, event_id,
            f"event {event_id} is not sealed and is dated {iso_at(at)}, after this check "
            f"({iso_at(self.now or at)}) or after events written after it: it was put in behind the "
            "chain's back",
        )  # fmt: skip

    def _found(self, problem: Problem, seq: int, event_id: int | None, message: str) -> Finding:
        self.finding = Finding(problem, seq, event_id, message)
        return self.finding
