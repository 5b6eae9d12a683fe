"""Alembic owns the schema: the migrations build it from nothing, are safe to re-run, can be undone,
and produce exactly what the SQLModel tables describe (on SQLite and on PostgreSQL); data already on
record is carried over (directive broadcasts, licence keys, the audit chain)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Integer, column, func, inspect, table, text
from sqlmodel import SQLModel, col, select

import bot.store.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.config import ConfigError
from bot.services import audit_chain
from bot.store import licences, migrate
from bot.store.db import Database
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    AuditEvent,
    Directive,
    DirectiveBroadcast,
    OutboxMessage,
    Person,
)
from bot.store.types import UTCDateTime, utcnow
from tests.integration.workspace import ALICE, GENERAL

CORE_TABLES = {
    "person",
    "person_role",
    "person_citizenship",
    "access_request",
    "request_step",
    "approval_task",
    "decision",
    "access_grant",
    "audit_event",
    "outbox",
    "dm_channel",
}


@pytest.fixture
def fresh_db(database_url: str) -> Iterator[Database]:
    """A database nothing has been run against yet."""
    database = Database(database_url)
    try:
        yield database
    finally:
        database.dispose()


def downgrade(db: Database, revision: str) -> None:
    config = migrate.alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def schema_differences(db: Database) -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_upgrade_builds_every_table_on_a_fresh_database(fresh_db: Database) -> None:
    assert migrate.current_revision(fresh_db) is None
    assert migrate.pending(fresh_db)

    migrate.upgrade(fresh_db)

    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = scripts.get_current_head()
    assert migrate.head_revision() == head, "SCHEMA_REVISION must name the newest migration"
    # known_revisions reads the scripts' file names: each must be named after its revision.
    assert migrate.known_revisions() == {script.revision for script in scripts.walk_revisions()}
    assert migrate.current_revision(fresh_db) == head
    assert not migrate.pending(fresh_db)
    assert tables(fresh_db) >= CORE_TABLES | {"alembic_version"}


def test_upgrading_again_changes_nothing_and_keeps_data(fresh_db: Database) -> None:
    migrate.upgrade(fresh_db)
    with fresh_db.uow() as uow:
        uow.session.add(Person(slack_user_id=ALICE, email="alice@example.com", name="Alice Chen"))
        uow.commit()
    before = tables(fresh_db)

    migrate.upgrade(fresh_db)
    migrate.upgrade(fresh_db)

    assert migrate.current_revision(fresh_db) == migrate.head_revision()
    assert not migrate.pending(fresh_db)
    assert tables(fresh_db) == before
    with fresh_db.read() as session:
        assert [p.name for p in session.exec(select(Person))] == ["Alice Chen"]


def test_downgrade_to_base_and_upgrade_again(fresh_db: Database) -> None:
    migrate.upgrade(fresh_db)

    downgrade(fresh_db, "base")

    assert migrate.current_revision(fresh_db) is None
    assert migrate.pending(fresh_db)
    assert tables(fresh_db) <= {"alembic_version"}

    migrate.upgrade(fresh_db)

    assert migrate.current_revision(fresh_db) == migrate.head_revision()
    assert tables(fresh_db) >= CORE_TABLES
    assert schema_differences(fresh_db) == []


def test_migrated_schema_matches_the_table_classes(fresh_db: Database) -> None:
    migrate.upgrade(fresh_db)

    assert schema_differences(fresh_db) == []


def test_migrated_columns_keep_json_datetimes_and_booleans(fresh_db: Database) -> None:
    """Rows written through the table classes read back with their types intact: JSON as JSON,
    datetimes as aware UTC, booleans as booleans, foreign keys resolved."""
    migrate.upgrade(fresh_db)
    expires = utcnow().replace(microsecond=0) + timedelta(days=7)
    with fresh_db.uow() as uow:
        request = AccessRequest(
            requester_id=ALICE,
            model="mythos-5",
            duration_seconds=3600,
            justification="Quarterly evaluation",
            policy_results=[{"check": "us_person", "ok": True}],
        )
        uow.session.add(request)
        uow.session.flush()
        uow.session.add(
            AccessGrant(user_id=ALICE, model="mythos-5", request_id=request.id, expires_at=expires)
        )
        uow.session.add(
            OutboxMessage(kind="post", lane=GENERAL, address=GENERAL, payload={"text": "hi"}, uncertain=True)
        )
        uow.commit()

    with fresh_db.read() as session:
        stored_request = session.exec(select(AccessRequest)).one()
        grant = session.exec(select(AccessGrant)).one()
        message = session.exec(select(OutboxMessage)).one()
    assert stored_request.policy_results == [{"check": "us_person", "ok": True}]
    assert grant.request_id == stored_request.id
    assert grant.expires_at == expires
    assert grant.expires_at.utcoffset() == timedelta(0)
    assert message.payload == {"text": "hi"}
    assert message.uncertain is True


def test_directive_broadcasts_are_recorded_from_the_group_keys_of_earlier_notices(fresh_db: Database) -> None:
    """Revision 0004 records the phase of each announcement a directive made before it (then known only
    from its outbox group key), and progress records name their phase; undone, both are as they were."""
    migrate.upgrade(fresh_db, "0003")
    queued = utcnow().replace(microsecond=0)
    with fresh_db.uow() as uow:
        for directive_id in (1, 2):
            uow.session.add(
                Directive(
                    id=directive_id,
                    title="Export order",
                    authority="Commerce",
                    reference=f"EO-{directive_id}",
                    notice="Stop.",
                    action="suspend",
                    population="everyone",
                    status="lifted",
                    issued_by=ALICE,
                    progress_outbox_id=99,
                    progress_reported={"group": f"directive:{directive_id}:warning", "done": False},
                )
            )
        uow.session.flush()
        for key in ("directive:1", "directive:1:lifted", "directive:2:warning", "directive:2:withdrawn"):
            uow.session.add(
                OutboxMessage(
                    kind="post", lane=ALICE, address=ALICE, payload={}, group_key=key, created_at=queued
                )
            )
        # Groups that name no directive announcement are left alone.
        for key in ("directive:9", "directive:1:other", "d:1"):
            uow.session.add(
                OutboxMessage(kind="post", lane=GENERAL, address=GENERAL, payload={}, group_key=key)
            )
        uow.commit()

    migrate.upgrade(fresh_db)

    with fresh_db.read() as session:
        recorded = {
            (b.directive_id, b.phase, b.group_key, b.queued_at)
            for b in session.exec(select(DirectiveBroadcast))
        }
        progress = [d.progress_reported for d in session.exec(select(Directive).order_by(col(Directive.id)))]
    assert recorded == {
        (1, "active", "directive:1", queued),
        (1, "lifted", "directive:1:lifted", queued),
        (2, "warning", "directive:2:warning", queued),
        (2, "withdrawn", "directive:2:withdrawn", queued),
    }
    assert progress == [{"phase": "warning", "done": False}] * 2

    downgrade(fresh_db, "0003")

    assert "directive_broadcast" not in tables(fresh_db)
    before_0004 = table("directive", column("id", Integer), column("progress_reported", JSON))
    with fresh_db.engine.connect() as connection:
        restored = (
            connection.execute(select(before_0004.c.progress_reported).order_by(before_0004.c.id))
            .scalars()
            .all()
        )
    assert restored == [
        {"group": "directive:1:warning", "done": False},
        {"group": "directive:2:warning", "done": False},
    ]


def test_licences_recorded_before_0008_are_found_by_their_case_folded_number(fresh_db: Database) -> None:
    """Revision 0008 keys every licence on record by its case-folded authority and number; undone, the
    key is gone and (authority, number) is unique again."""
    migrate.upgrade(fresh_db, "0007")
    before_0008 = table(
        "licence", *(column(name) for name in ("id", "number", "authority", "kind", "holder_id",
        "valid_from", "valid_until", "conditions", "status", "recorded_by", "recorded_at", "updated_at"))
    )  # fmt: skip
    now = utcnow()
    with fresh_db.engine.begin() as connection:
        connection.execute(
            before_0008.insert(),
            [
                {"id": n, "number": number, "authority": authority, "kind": "export", "holder_id": ALICE,
                 "valid_from": now.date(), "valid_until": now.date(), "conditions": "", "status": "active",
                 "recorded_by": ALICE, "recorded_at": now, "updated_at": now}
                for n, (authority, number) in enumerate([("BIS", "EX-1"), ("BÅFA", "ÄB-2")], start=1)
            ],
        )  # fmt: skip

    migrate.upgrade(fresh_db)

    with fresh_db.read() as session:
        assert licences.by_number(session, "bis", "ex-1") is not None
        found = licences.by_number(session, "båfa", "äb-2")
        assert found is not None and found.row.id == 2

    downgrade(fresh_db, "0007")

    columns = {c["name"] for c in inspect(fresh_db.engine).get_columns("licence")}
    assert "number_key" not in columns and {"number", "authority"} <= columns


def test_0011_starts_the_audit_chain_with_every_event_on_record(fresh_db: Database) -> None:
    """Revision 0011 records itself as `audit.chain_started` and seals every event on record, itself
    included, in id order: `audit verify` finds one intact chain. Undone, the events stay."""
    migrate.upgrade(fresh_db, "0010")
    before_0011 = table(
        "audit_event",
        column("id", Integer),
        column("at", UTCDateTime()),
        *(column(name) for name in ("actor", "action", "subject_type", "subject_id")),
        *(column(name, JSON) for name in ("before", "after", "detail")),
    )
    now = utcnow()
    with fresh_db.engine.begin() as connection:
        connection.execute(
            before_0011.insert(),
            [
                # Dated out of id order by hours: history before the chain is sealed as it was found.
                {"at": now - timedelta(hours=1 + n % 2), "actor": ALICE, "action": "request.submitted",
                 "subject_type": "request", "subject_id": str(n), "before": None,
                 "after": {"status": "pending", "note": "Zoë ✓"}, "detail": {"n": n}}
                for n in range(1, 2501)  # more than one sealing batch
            ],
        )  # fmt: skip

    migrate.upgrade(fresh_db)

    with fresh_db.read() as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert [e.seq for e in events] == list(range(1, 2502))
    started = events[-1]
    assert (started.action, started.actor, started.detail) == (
        "audit.chain_started",
        "system",
        {"revision": "0011", "events_before": 2500},
    )
    verdict = audit_chain.verify(fresh_db)
    assert (verdict.finding, verdict.events, verdict.head_hash) == (None, 2501, started.hash)
    with fresh_db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET detail = '{\"n\": 7}' WHERE id = 8"))
    finding = audit_chain.verify(fresh_db).finding
    assert finding is not None and (finding.problem, finding.event_id) == ("changed", 8)

    downgrade(fresh_db, "0010")

    assert {"audit_chain", "audit_checkpoint"}.isdisjoint(tables(fresh_db))
    with fresh_db.engine.connect() as connection:
        kept = connection.execute(select(func.count()).select_from(before_0011)).scalar_one()
    assert kept == 2501


def alembic_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_revision_read_at_start_up_is_alembics_at_every_step(fresh_db: Database) -> None:
    """current_revision reads the version table itself; Alembic's answer is the reference, for a database
    never migrated, one at an older revision, one at head, one downgraded to base, and one with two
    rows in its version table (which Alembic refuses to name one revision for)."""
    seen = [(migrate.current_revision(fresh_db), alembic_revision(fresh_db))]
    migrate.upgrade(fresh_db, "0002")
    seen.append((migrate.current_revision(fresh_db), alembic_revision(fresh_db)))
    migrate.upgrade(fresh_db)
    seen.append((migrate.current_revision(fresh_db), alembic_revision(fresh_db)))
    assert seen == [(None, None), ("0002", "0002"), (migrate.head_revision(), migrate.head_revision())]

    with fresh_db.engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    # Alembic refuses ("more than one head"); every command says so in one line (a ConfigError).
    with pytest.raises(migrate.SchemaUnclear, match="more than one revision") as refused:
        migrate.current_revision(fresh_db)
    assert isinstance(refused.value, ConfigError) and "more than one head" in str(refused.value)

    with fresh_db.engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    assert (migrate.current_revision(fresh_db), alembic_revision(fresh_db)) == (None, None)
