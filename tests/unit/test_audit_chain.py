"""The audit chain's format and its checker: the canonical encoding is exactly what the README tells an
auditor to recompute, and ChainWalk names the first event changed, removed, inserted or reordered."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.domain.audit_chain import (
    GENESIS,
    LATE_COMMIT_TOLERANCE,
    ChainWalk,
    Checkpoint,
    canonical,
    event_hash,
    first_dated_ahead,
)

START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def event(event_id: int, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": event_id,
        "at": START + timedelta(seconds=event_id),
        "actor": "U0ALICE01",
        "action": "request.submitted",
        "subject_type": "request",
        "subject_id": str(event_id),
        "before": None,
        "after": {"status": "pending", "model": "mythos-5"},
        "detail": {"justification": "Zoë's évaluation ✓"},
    }
    return {**fields, **changes}


def sealed_chain(count: int) -> list[dict[str, Any]]:
    """`count` events sealed in id order, as the sealer seals them."""
    chain, previous = [], GENESIS
    for number in range(1, count + 1):
        row = {**event(number), "seq": number, "prev_hash": previous}
        row["hash"] = previous = event_hash(row)
        chain.append(row)
    return chain


def walk(
    rows: list[dict[str, Any]], head: int | None = None, checkpoints: tuple[Checkpoint, ...] = ()
) -> Any:
    checker = ChainWalk(checkpoints)
    for row in sorted(rows, key=lambda r: r["seq"]):
        if checker.feed(row) is not None:
            break
    checker.finish(max(r["seq"] for r in rows) if head is None else head)
    return checker


# --- the encoding ---------------------------------------------------------------------------------------


def test_canonical_encoding_is_sorted_compact_ascii_json_of_every_column() -> None:
    row = {**event(7), "seq": 3, "prev_hash": GENESIS}
    expected = (
        '{"action":"request.submitted","actor":"U0ALICE01","after":{"model":"mythos-5","status":"pending"},'
        '"at":"2026-12-02T10:00:07.000000Z","before":null,'
        '"detail":{"justification":"Zo\\u00eb\'s \\u00e9valuation \\u2713"},"id":7,'
        f'"prev_hash":"{GENESIS}","seq":3,"subject_id":"7","subject_type":"request"}}'
    ).encode("ascii")
    assert canonical(row) == expected
    assert event_hash(row) == hashlib.sha256(expected).hexdigest()
    assert len(event_hash(row)) == 64


def test_time_is_written_in_utc_with_microseconds_whatever_its_zone() -> None:
    paris = timezone(timedelta(hours=1))
    at = datetime(2026, 12, 2, 11, 0, 0, 42, tzinfo=paris)
    row = {**event(1, at=at), "seq": 1, "prev_hash": GENESIS}
    assert b'"at":"2026-12-02T10:00:00.000042Z"' in canonical(row)
    with pytest.raises(ValueError):
        canonical({**row, "at": at.replace(tzinfo=None)})


@pytest.mark.parametrize(
    "column", ["id", "seq", "prev_hash", "at", "actor", "action", "subject_type", "subject_id", "before"]
)
def test_every_column_changes_the_hash(column: str) -> None:
    row = {**event(1), "seq": 1, "prev_hash": GENESIS}
    other = {
        "id": 2,
        "seq": 2,
        "prev_hash": "f" * 64,
        "at": START + timedelta(microseconds=1),
        "actor": "U0EVE0001",
        "action": "grant.revoked",
        "subject_type": "grant",
        "subject_id": "8",
        "before": {},
    }[column]
    assert event_hash({**row, column: other}) != event_hash(row)


def test_nested_json_order_does_not_matter_but_values_do() -> None:
    row = {**event(1), "seq": 1, "prev_hash": GENESIS}
    assert event_hash({**row, "after": {"model": "mythos-5", "status": "pending"}}) == event_hash(row)
    assert event_hash({**row, "after": {"model": "mythos-5", "status": "active"}}) != event_hash(row)
    assert event_hash({**row, "detail": None}) != event_hash({**row, "detail": {}})


# --- the checker ----------------------------------------------------------------------------------------


def test_an_intact_chain_gives_its_length_and_head() -> None:
    rows = sealed_chain(5)
    checker = walk(rows)
    assert checker.finding is None
    assert (checker.count, checker.head_hash) == (5, rows[-1]["hash"])


def test_a_changed_field_is_named() -> None:
    rows = sealed_chain(5)
    rows[2]["detail"] = {"justification": "something else"}
    finding = walk(rows).finding
    assert (finding.problem, finding.event_id, finding.seq) == ("changed", 3, 3)
    assert "event 3 (seq 3) does not match its hash" in finding.message


def test_a_removed_event_is_a_gap() -> None:
    rows = sealed_chain(5)
    del rows[1]
    finding = walk(rows).finding
    assert (finding.problem, finding.event_id, finding.seq) == ("removed", 3, 2)
    assert "seq 2 is missing before event 3 (seq 3)" in finding.message


def test_removing_the_last_events_is_seen_from_the_head() -> None:
    rows = sealed_chain(5)
    finding = walk(rows[:3], head=5).finding
    assert (finding.problem, finding.seq) == ("removed", 4)
    assert "ends after event 3 (seq 3), but seq 5 was sealed" in finding.message


def test_events_swapped_in_the_chain_are_reordered() -> None:
    rows = sealed_chain(5)
    rows[1]["seq"], rows[2]["seq"] = 3, 2
    finding = walk(rows).finding
    assert (finding.problem, finding.event_id, finding.seq) == ("reordered", 3, 2)
    assert "event 3 (seq 2) does not follow event 1 (seq 1)" in finding.message


def test_a_fake_inserted_with_a_recomputed_hash_breaks_the_next_link() -> None:
    rows = sealed_chain(4)
    fake = {**event(99, action="grant.created"), "seq": 3, "prev_hash": rows[1]["hash"]}
    fake["hash"] = event_hash(fake)
    for row in rows[2:]:
        row["seq"] += 1
    finding = walk([*rows, fake]).finding
    assert (finding.problem, finding.event_id, finding.seq) == ("reordered", 3, 4)
    assert "does not follow event 99 (seq 3)" in finding.message


def test_a_rewritten_history_disagrees_with_its_checkpoint() -> None:
    rows = sealed_chain(5)
    checkpoint = Checkpoint(id=1, seq=4, hash=rows[3]["hash"], at=START)
    assert walk(rows, checkpoints=(checkpoint,)).finding is None
    # Someone changes event 2 and recomputes every hash after it: the chain holds, the checkpoint does not.
    previous = rows[0]["hash"]
    for row in rows[1:]:
        if row["id"] == 2:
            row["actor"] = "U0EVE0001"
        row["prev_hash"] = previous
        row["hash"] = previous = event_hash(row)
    finding = walk(rows, checkpoints=(checkpoint,)).finding
    assert (finding.problem, finding.seq) == ("rewritten", 4)
    assert "disagrees with checkpoint C1" in finding.message


def test_a_checkpoint_beyond_the_end_means_events_were_removed() -> None:
    rows = sealed_chain(3)
    checkpoint = Checkpoint(id=2, seq=5, hash="a" * 64, at=START)
    assert walk(rows, head=3, checkpoints=(checkpoint,)).finding.problem == "removed"


def test_unsealed_events_are_late_commits_unless_far_older_than_the_chain() -> None:
    checker = walk(sealed_chain(3))
    newest = START + timedelta(seconds=3)
    assert checker.late_insertion(10, newest - LATE_COMMIT_TOLERANCE) is None
    finding = checker.late_insertion(11, newest - LATE_COMMIT_TOLERANCE - timedelta(seconds=1))
    assert (finding.problem, finding.event_id) == ("inserted", 11)
    assert "event 11 is not sealed" in finding.message and "inserted out of order" in finding.message


def test_a_backdated_event_sealed_after_newer_ones_is_an_insertion() -> None:
    rows = sealed_chain(3)
    late = {
        **event(4, at=START + timedelta(seconds=3) - LATE_COMMIT_TOLERANCE),
        "seq": 4,
        "prev_hash": rows[-1]["hash"],
    }
    late["hash"] = event_hash(late)
    assert walk([*rows, late]).finding is None  # a transaction that committed a little late
    forged = {**late, "at": late["at"] - timedelta(seconds=1)}
    forged["hash"] = event_hash(forged)
    finding = walk([*rows, forged]).finding
    assert (finding.problem, finding.event_id, finding.seq) == ("inserted", 4, 4)
    assert "event 4 (seq 4) is dated" in finding.message and "inserted out of order" in finding.message


def test_history_sealed_by_the_migration_is_not_held_to_date_order() -> None:
    rows = sealed_chain(3)
    older = {**event(4, at=START - timedelta(days=1)), "seq": 4, "prev_hash": rows[-1]["hash"]}
    older["hash"] = event_hash(older)
    assert walk([*rows, older]).finding.problem == "inserted"
    checker = ChainWalk(dated_after=4)
    for row in [*rows, older]:
        assert checker.feed(row) is None
    assert checker.latest_at == older["at"]  # later events are dated against the chain's start


def test_an_event_dated_ahead_of_the_clock_or_of_a_later_event_is_found() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    honest = [(3, now), (2, now - minute), (1, now - 2 * minute)]  # newest id first
    assert first_dated_ahead(honest, now) is None
    # A late commit: dated a little before an event written earlier, within the tolerance.
    assert first_dated_ahead([(3, now - 5 * minute), (2, now), (1, now - minute)], now) is None
    forged = (2, now + timedelta(days=30))
    assert first_dated_ahead([(3, now), forged, (1, now - minute)], now) == forged
    # Once the clock has passed its date, the honest event written after it still gives it away.
    later = now + timedelta(days=31)
    assert first_dated_ahead([(3, now), forged, (1, now - minute)], later) == forged
    # The oldest such event by id is the one named.
    assert first_dated_ahead([(3, now), (2, now + timedelta(days=2)), (1, now + timedelta(days=9))], now) == (
        1,
        now + timedelta(days=9),
    )
