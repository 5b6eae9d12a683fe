"""A large population for scale tests and benchmarks: N grant holders of one model, half of them US persons
on file (a non-US-persons directive leaves them alone); the other half are not in the directory (covered:
unknown US-person status fails closed) or, with `listed`, are non-US persons on file."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.domain.directives import Draft, check_draft
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import AccessGrant, Person, PersonCitizenship

MODEL = "mythos-5"


def seed_holders(db: Database, grants: int, now: datetime, *, listed: bool = False) -> None:
    """`grants` active grants of MODEL and their holders in the directory (with a citizenship each, so that
    the rest of the entitlement rule holds nothing of the US persons), in bulk statements."""
    people = range(grants) if listed else range(0, grants, 2)
    with db.uow() as uow:
        connection = uow.session.connection()
        connection.execute(
            insert(Person),
            [
                {"slack_user_id": f"U{n:09d}", "email": f"u{n}@example.com", "name": f"P{n}",
                 "work_country": "US", "us_person": n % 2 == 0, "created_at": now, "updated_at": now}
                for n in people
            ],
        )  # fmt: skip
        connection.execute(
            insert(PersonCitizenship),
            [{"slack_user_id": f"U{n:09d}", "country": "US" if n % 2 == 0 else "DE"} for n in people],
        )
        connection.execute(
            insert(AccessGrant),
            [
                {"user_id": f"U{n:09d}", "model": MODEL, "status": "active", "starts_at": now,
                 "expires_at": now + timedelta(days=30), "created_at": now, "updated_at": now}
                for n in range(grants)
            ],
        )  # fmt: skip
        uow.commit()


def frontier_order(ctx: Context, now: datetime) -> Draft:
    """The seed situation's directive: MODEL suspended for everyone who is not a US person."""
    return check_draft(
        title="Frontier order",
        authority="Commerce",
        reference="EO-1",
        notice="Mythos 5 may no longer be used by foreign nationals.",
        models=[MODEL],
        known_models=set(ctx.catalog.models),
        population="non-us-persons",
        action="suspend",
        effective_at=None,
        now=now,
    )
