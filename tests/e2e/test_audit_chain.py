"""The tamper-evident audit trail end to end: a history made through Slack, `accessbot audit verify` on
it, then one audit row tampered with by raw SQL (edited, deleted, inserted, swapped, or history
rewritten with every hash recomputed), and the checkpoints posted to the compliance channel, daily and
on demand."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, delete, insert, select, text

from bot.clock import FileClock
from bot.domain.audit_chain import HASHED, event_hash
from bot.store.db import Database
from bot.store.tables import AuditChain, AuditCheckpoint, AuditEvent
from bot.store.types import UTCDateTime
from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES
from tests.support.cli import run_cli
from tests.support.flows import grant_through_slack
from tests.support.slack import SlackEmulator

ALICE, BORIS, ADMIN = "U0ALICE01", "U0BORIS01", "U0ADMIN01"
COMPLIANCE = "C0AUDIT01"


@pytest.fixture
def audited(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator, tmp_path: Path
) -> InProcessBot:
    """A bot whose policy.yaml names a compliance channel."""
    workflows = tmp_path / "workflows"
    shutil.copytree(FIXTURES / "workflows", workflows)
    policy = workflows / "policy.yaml"
    policy.write_text(policy.read_text() + f"  compliance_channel: {COMPLIANCE}\n")
    emulator.add_channel(COMPLIANCE, "compliance", bot_is_member=True)
    return start_server(ACCESSBOT_WORKFLOWS_DIR=str(workflows))


@pytest.fixture
def history(audited: InProcessBot, emulator: SlackEmulator) -> InProcessBot:
    """Grants made through Slack, one revoked, every event sealed."""
    slack = audited.driver(emulator)
    grant_through_slack(slack, emulator, audited, ALICE, "mythos-5")
    boris = grant_through_slack(slack, emulator, audited, BORIS, "mythos-5")
    assert "Revoked" in slack.command(ADMIN, f"revoke G{boris} no longer on the project").body
    audited.settle()
    run_cli(audited, "audit", "verify", "--seal")
    return audited


@pytest.fixture
def raw(history: InProcessBot) -> Iterator[Database]:
    """The bot's database, for tampering with its rows behind its back."""
    db = Database(history.env["DATABASE_URL"], pool=False)
    yield db
    db.dispose()


def events_by_seq(db: Database) -> list[dict[str, Any]]:
    """The sealed events in chain order, each as the mapping of its columns (as the sealer hashed them)."""
    columns = ", ".join(f'"{name}"' for name in (*HASHED, "hash"))
    query = text(f"SELECT {columns} FROM audit_event WHERE seq IS NOT NULL ORDER BY seq").columns(
        at=UTCDateTime(), before=JSON(), after=JSON(), detail=JSON()
    )
    with db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def tampered(server: InProcessBot, case: str = "") -> str:
    """`accessbot audit verify`'s one line about the tampering (it must exit 1)."""
    result = run_cli(server, "audit", "verify", check=False)
    assert result.returncode == 1, (case, result.stdout + result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accessbot: the audit trail was tampered with: ")
    return lines[0]


def middle(db: Database) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Three events in a row from the middle of the chain, none of them one a checkpoint records (so that
    what the chain itself shows is what is found first)."""
    chain = events_by_seq(db)
    assert len(chain) > 20, "the history is long enough to tamper with its middle"
    with db.engine.connect() as connection:
        checkpointed = set(connection.execute(text("SELECT seq FROM audit_checkpoint")).scalars())
    at = len(chain) // 2
    while checkpointed & {at - 1, at, at + 1, at + 2}:  # seqs of chain[at - 1], chain[at], chain[at + 1]
        at += 1
    return chain[at - 1], chain[at], chain[at + 1]


def execute(db: Database, *statements: tuple[str, dict[str, Any]]) -> None:
    with db.engine.begin() as connection:
        for statement, values in statements:
            connection.execute(text(statement), values)


def test_a_history_made_through_slack_verifies(history: InProcessBot, raw: Database) -> None:
    chain = events_by_seq(raw)
    result = run_cli(history, "audit", "verify")
    assert result.stdout.startswith(f"audit chain intact: {len(chain)} events, head hash {chain[-1]['hash']}")
    actions = [e["action"] for e in chain]
    assert actions[0] == "audit.chain_started"
    assert {"request.submitted", "grant.created", "grant.revoked", "audit.checkpoint"} <= set(actions)
    # The export carries each event's place in the chain, enough to recompute every hash from it.
    exported = [json.loads(line) for line in run_cli(history, "audit", "export").stdout.splitlines()]
    assert {e["seq"]: e["hash"] for e in exported} == {e["seq"]: e["hash"] for e in chain}


# -- one row tampered with, each way in turn, on one history ---------------------------------------------
# Each case tampers with the history's rows and returns what `audit verify` must say; the rows are put
# back as they were before the next case (making the history through Slack takes seconds; tampering, none).

Case = Callable[[InProcessBot, Database, FileClock], list[str]]


def edited(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    _, victim, _ = middle(raw)
    execute(raw, ("UPDATE audit_event SET actor = 'U0EVE0001' WHERE id = :id", {"id": victim["id"]}))
    return [f"event {victim['id']} (seq {victim['seq']}) does not match its hash: it was changed"]


def edited_json(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    _, victim, _ = middle(raw)
    execute(
        raw, ("UPDATE audit_event SET detail = '{\"approved\": true}' WHERE id = :id", {"id": victim["id"]})
    )
    return [f"event {victim['id']} (seq {victim['seq']}) does not match its hash"]


def deleted(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    _, victim, after = middle(raw)
    execute(raw, ("DELETE FROM audit_event WHERE id = :id", {"id": victim["id"]}))
    return [f"seq {victim['seq']} is missing before event {after['id']} (seq {after['seq']})", "removed"]


def last_deleted(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    last = events_by_seq(raw)[-1]
    execute(raw, ("DELETE FROM audit_event WHERE id = :id", {"id": last["id"]}))
    return [f"but seq {last['seq']} was sealed: the last events were removed"]


def sealed_fake_inserted(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    before, victim, _ = middle(raw)
    fake = {
        **victim,
        "id": max(e["id"] for e in events_by_seq(raw)) + 100,
        "actor": ADMIN,
        "action": "grant.created",
        "prev_hash": before["hash"],
    }
    fake["hash"] = event_hash(fake)  # the forger knows the format
    # Make room: everything from the victim on moves one place later (through negative numbers, so that
    # the unique index never sees two events at one place).
    execute(
        raw,
        ("UPDATE audit_event SET seq = -seq WHERE seq >= :seq", {"seq": victim["seq"]}),
        ("UPDATE audit_event SET seq = 1 - seq WHERE seq < 0", {}),
        (
            "INSERT INTO audit_event (id, seq, prev_hash, hash, at, actor, action, subject_type, subject_id, "
            '"before", "after", detail) VALUES (:id, :seq, :prev_hash, :hash, :at, :actor, :action, '
            ":subject_type, :subject_id, :before, :after, :detail)",
            {
                **fake,
                "at": fake["at"].replace(tzinfo=None),
                **{k: json.dumps(fake[k]) for k in ("before", "after", "detail")},
            },
        ),
    )
    moved, forged = (
        f"event {victim['id']} (seq {victim['seq'] + 1})",
        f"event {fake['id']} (seq {victim['seq']})",
    )
    return [f"{moved} does not follow {forged}", "inserted, removed or reordered"]


def swapped(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    before, first, second = middle(raw)
    execute(
        raw,
        ("UPDATE audit_event SET seq = -seq WHERE id IN (:a, :b)", {"a": first["id"], "b": second["id"]}),
        ("UPDATE audit_event SET seq = :seq WHERE id = :id", {"seq": first["seq"], "id": second["id"]}),
        ("UPDATE audit_event SET seq = :seq WHERE id = :id", {"seq": second["seq"], "id": first["id"]}),
    )
    return [f"event {second['id']} (seq {first['seq']}) does not follow event {before['id']}", "reordered"]


def contents_swapped(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    _, first, second = middle(raw)
    swap = "UPDATE audit_event SET actor = :actor, action = :action, subject_id = :subject_id WHERE id = :id"
    execute(
        raw,
        (swap, {"id": first["id"], **{k: second[k] for k in ("actor", "action", "subject_id")}}),
        (swap, {"id": second["id"], **{k: first[k] for k in ("actor", "action", "subject_id")}}),
    )
    return [f"event {first['id']} (seq {first['seq']}) does not match its hash"]


def rewritten(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    run_cli(history, "audit", "checkpoint")
    history.settle()
    chain = events_by_seq(raw)
    _, victim, _ = middle(raw)
    # The forger changes one event and recomputes every hash after it: the chain alone holds again.
    previous = None
    statements = []
    for event in chain[victim["seq"] - 1 :]:
        if event["id"] == victim["id"]:
            event["actor"] = "U0EVE0001"
        if previous is not None:
            event["prev_hash"] = previous
        event["hash"] = previous = event_hash(event)
        statements.append(
            (
                "UPDATE audit_event SET actor = :actor, prev_hash = :prev_hash, hash = :hash WHERE id = :id",
                event,
            )
        )
    execute(raw, *statements, ("UPDATE audit_chain SET hash = :hash", {"hash": previous}))
    return ["disagrees with checkpoint C", "the history up to it was rewritten"]


def slipped_in_unsealed(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    clock.advance(hours=2)
    run_cli(history, "audit", "checkpoint")
    # Its own event sealed now, not whenever the sealer next runs on a busy machine: the chain's newest
    # sealed event is two hours later than the history.
    run_cli(history, "audit", "verify", "--seal")
    history.settle()
    old = events_by_seq(raw)[3]
    execute(
        raw,
        (
            "INSERT INTO audit_event (at, actor, action, subject_type, subject_id) "
            "VALUES (:at, 'U0ADMIN01', 'grant.created', 'grant', '99')",
            {"at": old["at"].replace(tzinfo=None)},
        ),
    )
    with raw.engine.connect() as connection:
        forged = connection.execute(text("SELECT max(id) FROM audit_event")).scalar_one()
    # Sealed by the bot meanwhile or not, it is dated well before events already in the chain.
    return [f"event {forged} ", "inserted out of order"]


def dated_in_the_future(history: InProcessBot, raw: Database, clock: FileClock) -> list[str]:
    execute(
        raw,
        (
            "INSERT INTO audit_event (at, actor, action, subject_type, subject_id) "
            "VALUES (:at, 'U0ADMIN01', 'grant.revoked', 'grant', '1')",
            {"at": (clock() + timedelta(days=30)).replace(tzinfo=None)},
        ),
    )
    with raw.engine.connect() as connection:
        forged = connection.execute(text("SELECT max(id) FROM audit_event")).scalar_one()
    # Sealing stops before it, so honest events after it (the checkpoint's) never look out of order.
    assert run_cli(history, "audit", "verify", "--seal", check=False).returncode == 1
    run_cli(history, "audit", "checkpoint")
    # Nor once the clock has caught up with its date: honest events written after it are dated before it.
    clock.advance(days=31)
    run_cli(history, "audit", "checkpoint")
    assert run_cli(history, "audit", "verify", "--seal", check=False).returncode == 1
    with raw.engine.connect() as connection:
        assert connection.execute(text(f"SELECT seq FROM audit_event WHERE id = {forged}")).scalar() is None
    return [f"event {forged} ", "after events written after it", "put in behind the chain's back"]


# The last three move the clock or add checkpoints: they come after the others.
CASES: list[Case] = [
    edited, edited_json, deleted, last_deleted, sealed_fake_inserted, swapped, contents_swapped, rewritten,
    slipped_in_unsealed, dated_in_the_future,
]  # fmt: skip
CHAIN_TABLES = (AuditEvent.__table__, AuditChain.__table__, AuditCheckpoint.__table__)


def test_each_kind_of_tampering_with_one_row_is_named(
    history: InProcessBot, raw: Database, clock: FileClock
) -> None:
    with raw.engine.connect() as connection:
        kept = {
            table.name: [dict(row._mapping) for row in connection.execute(select(table))]
            for table in CHAIN_TABLES
        }
    for case in CASES:
        expected = case(history, raw, clock)
        line = tampered(history, case.__name__)
        assert all(part in line for part in expected), (case.__name__, line)
        with raw.engine.begin() as connection:  # as it was before the case
            # The chain's head first, as the bot's sealer takes it (it then writes events): taken the
            # other way round, the two would wait for each other.
            for table in (AuditChain.__table__, AuditCheckpoint.__table__, AuditEvent.__table__):
                connection.execute(delete(table))
            for table in CHAIN_TABLES:
                if kept[table.name]:
                    connection.execute(insert(table), kept[table.name])
        assert run_cli(history, "audit", "verify").returncode == 0, case.__name__


def test_checkpoint_on_demand_is_posted_to_the_compliance_channel(
    history: InProcessBot, emulator: SlackEmulator, raw: Database
) -> None:
    result = run_cli(history, "audit", "checkpoint")
    found = re.match(r"checkpoint (C\d+): (\d+) events, head hash ([0-9a-f]{64}), at ", result.stdout)
    assert found, result.stdout
    label, seq, head_hash = found.group(1), int(found.group(2)), found.group(3)
    assert f"posting it to {COMPLIANCE}" in result.stdout
    posted = emulator.wait_for(lambda: [m for m in emulator.messages(COMPLIANCE) if head_hash in m["text"]])
    assert posted[-1]["text"].startswith(f"Audit checkpoint {label}: {seq} events")
    assert head_hash in json.dumps(posted[-1]["blocks"])

    verified = run_cli(history, "audit", "verify", "--seal").stdout
    assert "checkpoint(s) agree" in verified
    chain = events_by_seq(raw)
    # The checkpoint records the head it found; its own event comes next in the chain.
    assert chain[seq - 1]["hash"] == head_hash
    assert (chain[seq]["action"], chain[seq]["detail"]["hash"]) == ("audit.checkpoint", head_hash)
    assert not emulator.violations


def test_the_daily_checkpoint_is_posted_once_a_day(
    audited: InProcessBot, emulator: SlackEmulator, clock: FileClock
) -> None:
    def daily() -> list[dict[str, Any]]:
        return [m for m in emulator.messages(COMPLIANCE) if m["text"].startswith("Daily audit checkpoint")]

    audited.run_jobs()
    first = emulator.wait_for(daily)
    audited.run_jobs()
    audited.settle()
    assert len(daily()) == 1
    clock.advance(days=1)
    audited.run_jobs()
    emulator.wait_for(lambda: len(daily()) == 2)
    audited.run_jobs()
    audited.settle()
    assert len(daily()) == 2
    assert first[0]["text"].startswith("Daily audit checkpoint C1:")
    assert daily()[1]["text"].startswith("Daily audit checkpoint C2:")
    assert run_cli(audited, "audit", "verify", "--seal").stdout.count("2 checkpoint(s) agree") == 1


def test_without_a_compliance_channel_checkpoints_are_recorded_not_posted(
    server: InProcessBot, emulator: SlackEmulator
) -> None:
    result = run_cli(server, "audit", "checkpoint")
    assert "recorded, not posted: set compliance_channel in workflows/policy.yaml" in result.stdout
    assert "intact" in run_cli(server, "audit", "verify", "--seal").stdout


def test_bad_usage_is_one_line_and_exit_2(server: InProcessBot) -> None:
    result = run_cli(server, "audit", "verify", "--repair", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_of_a_time_window(server: InProcessBot, clock: FileClock) -> None:
    def exported(*window: str) -> list[dict[str, Any]]:
        lines = run_cli(server, "audit", "export", *window).stdout.splitlines()
        return [json.loads(line) for line in lines]

    run_cli(server, "audit", "checkpoint")
    first_day = clock()
    clock.advance(days=2)
    run_cli(server, "audit", "checkpoint")
    server.settle()  # the scheduler's daily checkpoint of the new day too
    run_cli(server, "audit", "verify", "--seal")  # sealed now, so that every export below reads the same
    everything = exported()
    middle = (first_day + timedelta(days=1)).isoformat()
    later = exported("--since", middle)
    earlier = exported("--until", middle)
    assert later and {e["action"] for e in later} == {"audit.checkpoint"}
    assert all(e["at"] >= middle for e in later) and all(e["at"] < middle for e in earlier)
    assert earlier + later == everything  # the window splits the trail, in order, losing nothing
    assert exported("--since", middle, "--until", (clock() + timedelta(seconds=1)).isoformat()) == later
    for window, message in (
        (("--since", "yesterday"), "--since 'yesterday' is not an ISO 8601 time"),
        (("--until", "2026-03-01T09:00:00"), "--until '2026-03-01T09:00:00' needs a time zone"),
        (("--since", middle, "--until", middle), "--until must come after --since"),
    ):
        result = run_cli(server, "audit", "export", *window, check=False)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
