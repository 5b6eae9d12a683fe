"""A large population for scale tests and benchmarks: N grant holders of one model, all in the directory,
half of them US persons (a non-US-persons directive leaves them alone), half not."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.domain.directives import Draft, check_draft
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import AccessGrant, Person, PersonCitizenship

MODEL = "mythos-5"


def seed_holders(db: Database, grants: int, now: datetime) -> None:
    """`grants` active grants of MODEL and their holders (with a citizenship each, so that the rest of
    the entitlement rule holds nothing), in bulk statements."""
    with db.uow() as uow:
        connection = uow.session.connection()
        connection.execute(
            insert(Person),
            [
                {"slack_user_id": f"U{n:09d}", "email": f"u{n}@example.com", "name": f"P{n}",
                 "work_country": "US", "us_person": n % 2 == 0, "created_at": now, "updated_at": now}
                for n in range(grants)
            ],
        )  # fmt: skip
        connection.execute(
            insert(PersonCitizenship),
            [{"slack_user_id": f"U{n:09d}", "country": "US" if n % 2 == 0 else "DE"} for n in range(grants)],
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
