"""A lapse warning goes out once per licence and lead time, even when two scheduler runs (a forced run
beside the timer's, two replicas' first ticks) read the same licence as due at the same moment."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.services import licences
from bot.services.context import Context
from bot.store import licences as licence_store
from bot.store.tables import AuditEvent, OutboxMessage
from tests.support.concurrency import race, second_after_first_call
from tests.support.history import Clock

BORIS, CARLA = "U0BORIS01", "U0CARLA01"  # Carla has the export-compliance role


def record_lapsing(ctx: Context, days_left: int) -> None:
    today = ctx.clock().date()
    licences.record_licence(
        ctx,
        {
            "number": "EX-1", "authority": "BIS", "kind": "deemed-export", "holder": BORIS,
            "models": "mythos-5", "countries": "DE", "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=days_left)).isoformat(), "conditions": "",
        },
        actor=CARLA,
    )  # fmt: skip


def warnings_queued(ctx: Context, saying: str = "about to lapse") -> dict[str, int]:
    """Person -> lapse warnings queued for them (those `saying` some words)."""
    with ctx.read() as session:
        rows = session.exec(select(OutboxMessage.address, OutboxMessage.payload)).all()
    return dict(Counter(address for address, payload in rows if saying in json.dumps(payload)))


def warned_events(ctx: Context) -> int:
    with ctx.read() as session:
        return session.exec(select(func.count()).where(AuditEvent.action == "licence.lapse_warned")).one()


def warn_at_once(ctx: Context, runs: int) -> list[int]:
    """What each of `runs` scheduler runs of the lapse warnings, released at the same moment, warned."""
    counts: list[int] = []
    race(*[lambda: counts.append(licences.warn_lapsing(ctx))] * runs)
    return counts


def test_a_run_that_read_a_warning_as_due_after_another_queued_it_does_not_warn_again(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run reads the licence as due; before it goes on, a second run reads it too, warns and
    commits. The first then finds the warning taken and sends nothing: one DM to the holder and one to
    export compliance, one audit event."""
    if not ctx.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite's writers take turns, so two runs cannot read at once")
    record_lapsing(ctx, days_left=5)
    second: list[int] = []
    threads = second_after_first_call(
        monkeypatch, ctx.db, licence_store, "due_warnings", lambda: second.append(licences.warn_lapsing(ctx))
    )
    assert licences.warn_lapsing(ctx) == 0
    threads[0].join(timeout=60)
    assert second == [1], "the second run warned and committed while the first was between steps"
    assert warnings_queued(ctx) == {BORIS: 1, CARLA: 1}
    assert warned_events(ctx) == 1


def test_runs_released_together_warn_once_per_lead(ctx: Context) -> None:
    """Runs started at the same moment, on each lead's day: one warning each time, whoever wins."""
    record_lapsing(ctx, days_left=40)
    clock = ctx.clock
    for advance, lead in ((10, "30 days"), (23, "7 days")):
        clock.advance(timedelta(days=advance))  # type: ignore[attr-defined]
        assert sorted(warn_at_once(ctx, runs=3)) == [0, 0, 1], lead
    assert warnings_queued(ctx) == {BORIS: 2, CARLA: 2}
    assert warned_events(ctx) == 2


def test_a_warning_read_as_due_while_the_licence_is_renewed_waits_for_the_renewal(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run reads the licence (5 days left) as due; a re-import moves its last day a day on at that
    moment. The import waits for the run's warning, then clears it: the next run warns of the new day,
    which a warning queued after the renewal, with the old day, would have kept from going out."""
    if not ctx.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite's writers take turns, so the import cannot run in between")
    record_lapsing(ctx, days_left=5)
    today = ctx.clock().date()
    renewal = tmp_path / "licences.csv"
    renewal.write_text(
        "number,authority,kind,holder,models,countries,valid_from,valid_until,conditions\n"
        f"EX-1,BIS,deemed-export,{BORIS},mythos-5,DE,{today},{today + timedelta(days=6)},\n",
        encoding="utf-8",
    )
    renewed: list[object] = []
    threads = second_after_first_call(
        monkeypatch, ctx.db, licence_store, "due_warnings",
        lambda: renewed.append(licences.import_licences(ctx, renewal, actor=CARLA)),
    )  # fmt: skip
    assert licences.warn_lapsing(ctx) == 1
    threads[0].join(timeout=60)
    assert renewed, "the renewal was imported"
    assert warnings_queued(ctx, "in 5 days") == {BORIS: 1, CARLA: 1}
    assert licences.warn_lapsing(ctx) == 1
    assert warnings_queued(ctx, "in 6 days") == {BORIS: 1, CARLA: 1}


def test_the_lead_times_are_the_ones_policy_yaml_sets(ctx: Context) -> None:
    # licence_warning_days: [14, 3] instead of the default [30, 7].
    policy = replace(ctx.catalog.policy, licence_warning_days=(14, 3))
    ctx.catalog = replace(ctx.catalog, policy=policy)
    clock = ctx.clock
    assert isinstance(clock, Clock)
    record_lapsing(ctx, days_left=20)
    assert licences.warn_lapsing(ctx) == 0  # 30 days is not a lead time here
    clock.advance(timedelta(days=6))  # 14 days left
    assert licences.warn_lapsing(ctx) == 1
    assert warnings_queued(ctx, "in 14 days") == {BORIS: 1, CARLA: 1}
    clock.advance(timedelta(days=7))  # 7 days left: not a lead time either
    assert licences.warn_lapsing(ctx) == 0
    clock.advance(timedelta(days=4))  # 3 days left
    assert licences.warn_lapsing(ctx) == 1
    assert warnings_queued(ctx, "in 3 days") == {BORIS: 1, CARLA: 1}
