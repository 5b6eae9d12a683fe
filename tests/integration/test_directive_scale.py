"""Applying and lifting a directive is set-based: 100,000 grants in a handful of statements, on SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from bot.render import Renderer
from bot.services import directives
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import AccessGrant, AuditEvent, GrantSuspension, OutboxMessage
from bot.store.types import utcnow
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES, REPO
from tests.support.scale import frontier_order, seed_holders

GRANTS = 100_000


def test_a_directive_over_a_hundred_thousand_grants_is_applied_and_lifted_in_bulk(db: Database) -> None:
    # How long it takes is measured by `python -m benchmarks`; here, what it does.
    now = utcnow()
    seed_holders(db, GRANTS, now)
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"), renderer=Renderer(REPO / "templates"))
    issued = directives.issue(ctx, actor="cli:test", draft=frontier_order(ctx, now))
    assert issued.impact.models[0].grants_suspended == GRANTS // 2
    with db.read() as session:
        by_status = dict(
            session.exec(select(AccessGrant.status, func.count()).group_by(AccessGrant.status)).all()  # type: ignore[arg-type]
        )
        assert by_status == {"active": GRANTS // 2, "suspended": GRANTS // 2}
        assert session.exec(select(func.count()).select_from(GrantSuspension)).one() == GRANTS // 2
        suspended_events = session.exec(
            select(func.count()).where(AuditEvent.action == "grant.suspended")
        ).one()
        assert suspended_events == GRANTS // 2
        notices = session.exec(select(func.count()).where(OutboxMessage.group_key == "directive:1")).one()
        assert notices == GRANTS // 2 + 1  # one DM per affected person, and the channel post

    lifted = directives.lift(ctx, actor="cli:test", directive_id=1)
    assert lifted.reinstated == GRANTS // 2
