"""Applying and lifting a directive is set-based: the same handful of statements for 1,000 grants as for
10,000, on SQLite and PostgreSQL (how long 100,000 take is measured by `python -m benchmarks`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from bot.services import directives
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import AccessGrant, AuditEvent, GrantSuspension, OutboxMessage
from bot.store.types import utcnow
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES
from tests.support.databases import fresh_database
from tests.support.scale import frontier_order, seed_holders
from tests.support.seed import migrate_database


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements the database receives inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def apply_and_lift(db: Database, grants: int) -> int:
    """Issue and lift the frontier order over `grants` holders (half covered); check every effect and
    return how many statements that took."""
    now = utcnow()
    seed_holders(db, grants, now)
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"))
    with counting_statements(db) as statements:
        issued = directives.issue(ctx, actor="cli:test", draft=frontier_order(ctx, now))
    assert issued.impact.models[0].grants_suspended == grants // 2
    with db.read() as session:
        by_status = dict(
            session.exec(select(AccessGrant.status, func.count()).group_by(AccessGrant.status)).all()  # type: ignore[arg-type]
        )
        assert by_status == {"active": grants // 2, "suspended": grants // 2}
        assert session.exec(select(func.count()).select_from(GrantSuspension)).one() == grants // 2
        suspended_events = session.exec(
            select(func.count()).where(AuditEvent.action == "grant.suspended")
        ).one()
        assert suspended_events == grants // 2
        notices = session.exec(select(func.count()).where(OutboxMessage.group_key == "directive:1")).one()
        assert notices == grants // 2 + 1  # one DM per affected person, and the channel post

    with counting_statements(db) as more:
        lifted = directives.lift(ctx, actor="cli:test", directive_id=1)
    assert lifted.reinstated == grants // 2
    return len(statements) + len(more)


@pytest.mark.database
def test_a_directive_is_applied_and_lifted_in_the_same_few_statements_for_ten_times_the_grants(
    tmp_path: Path,
) -> None:
    statements = []
    for grants in (1_000, 10_000):
        with fresh_database(tmp_path) as url:
            migrate_database(url)
            db = Database(url)
            try:
                statements.append(apply_and_lift(db, grants))
            finally:
                db.dispose()
    print(f"statements for 1,000 and 10,000 grants: {statements}")
    assert statements[1] == statements[0]
