"""Applying a directive is set-based: 100,000 grants in a few seconds, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, insert
from sqlmodel import select

from bot.domain.directives import check_draft
from bot.render import Renderer
from bot.services import directives
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import AccessGrant, AuditEvent, GrantSuspension, OutboxMessage, Person
from bot.store.types import utcnow
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES, REPO

GRANTS = 100_000


def test_hundred_thousand_grants_in_a_few_seconds(db: Database) -> None:
    now = utcnow()
    # Half the holders are US persons on file (untouched), half are not in the directory at all
    # (unknown US-person status: covered, failing closed).
    with db.uow() as uow:
        connection = uow.session.connection()
        connection.execute(
            insert(Person),
            [
                {"slack_user_id": f"U{n:09d}", "email": f"u{n}@example.com", "name": f"P{n}",
                 "us_person": True, "created_at": now, "updated_at": now}
                for n in range(0, GRANTS, 2)
            ],
        )  # fmt: skip
        connection.execute(
            insert(AccessGrant),
            [
                {"user_id": f"U{n:09d}", "model": "mythos-5", "status": "active", "starts_at": now,
                 "expires_at": now + timedelta(days=30), "created_at": now, "updated_at": now}
                for n in range(GRANTS)
            ],
        )  # fmt: skip
        uow.commit()
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"), renderer=Renderer(REPO / "templates"))
    draft = check_draft(
        title="Frontier order",
        authority="Commerce",
        reference="EO-1",
        notice="Mythos 5 may no longer be used by foreign nationals.",
        models=["mythos-5"],
        known_models=set(ctx.catalog.models),
        population="non-us-persons",
        action="suspend",
        effective_at=None,
        now=now,
    )
    started = time.monotonic()
    issued = directives.issue(ctx, actor="cli:test", draft=draft)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"issuing took {elapsed:.1f}s"
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

    started = time.monotonic()
    lifted = directives.lift(ctx, actor="cli:test", directive_id=1)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"lifting took {elapsed:.1f}s"
    assert lifted.reinstated == GRANTS // 2
