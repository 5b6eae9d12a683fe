"""Test databases used again on PostgreSQL (tests/support/recycling.py): a database handed to a second test
holds what a fresh copy of its template holds, ids included, and one whose schema a test changed is
dropped instead of handed on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.db import Database
from bot.store.tables import Recheck
from bot.store.types import utcnow
from tests.support.databases import fresh_database, settle, using_postgres
from tests.support.seed import prepare_database

pytestmark = pytest.mark.database

COUNTS = """
SELECT relname, n_live FROM (
    SELECT c.relname, (xpath('/row/n/text()',
        query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text AS n_live
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
) AS counted ORDER BY relname
"""


def contents(db: Database) -> tuple[int, dict[str, str], list[tuple[str, int | None]]]:
    """(the database's oid, rows per table, each sequence's last value)."""
    with db.engine.connect() as connection:
        oid = connection.execute(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        ).scalar()
        counts = {str(name): str(n) for name, n in connection.execute(text(COUNTS))}
        sequences = connection.execute(
            text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
        ).all()
    return int(oid or 0), counts, [(str(name), last) for name, last in sequences]


def used(url: str, change: str | None = None) -> tuple[int, dict[str, str], list[tuple[str, int | None]]]:
    """Fill the database at `url` from the seeded template, read it, then write to it (and run `change`)."""
    prepare_database(url)
    db = Database(url)
    try:
        before = contents(db)
        with db.uow() as uow:
            uow.session.add(Recheck(at=utcnow(), trigger="test", actor="test"))
            uow.commit()
        if change:
            with db.engine.begin() as connection:
                connection.execute(text(change))
        return before
    finally:
        db.dispose()


def test_a_database_used_again_holds_what_a_fresh_copy_holds(tmp_path: Path) -> None:
    if not using_postgres():
        pytest.skip("databases are used again only on PostgreSQL")
    with fresh_database(tmp_path) as url:
        first = used(url)
    settle()
    with fresh_database(tmp_path) as url:
        second = used(url)
    assert second[0] == first[0]  # the same database, under another name
    assert second[1:] == first[1:]
    assert "recheck_id_seq" in dict(first[2])  # the sequence the first test moved on is compared


def test_a_database_whose_schema_changed_is_dropped_not_used_again(tmp_path: Path) -> None:
    if not using_postgres():
        pytest.skip("databases are used again only on PostgreSQL")
    with fresh_database(tmp_path) as url:
        changed = used(url, "ALTER TABLE recheck ADD COLUMN extra integer")[0]
    settle()
    with fresh_database(tmp_path) as url:
        prepare_database(url)
        db = Database(url)
        try:
            assert contents(db)[0] != changed
            with db.engine.connect() as connection:
                found = connection.execute(
                    text("SELECT count(*) FROM pg_database WHERE oid = :oid"), {"oid": changed}
                )
                assert found.scalar() == 0
        finally:
            db.dispose()
