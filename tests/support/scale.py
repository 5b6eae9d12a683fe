"""A large population for scale tests and benchmarks: N grant holders of one model, half of them US persons
on file (a non-US-persons directive leaves them alone); the other half are not in the directory (covered:
unknown US-person status fails closed) or, with `listed`, are non-US persons on file."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from bot.domain.directives import Draft, check_draft
from bot.domain.licences import number_key
from bot.services.context import Context
from bot.store.db import Database
from bot.store.tables import AccessGrant, Licence, LicenceCountry, LicenceModel, Person, PersonCitizenship

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


def seed_licences(db: Database, grants: int, now: datetime) -> None:
    """An active export licence of MODEL for Germany for every non-US holder `seed_holders(listed=True)`
    made (the odd ones, German citizens working in the US), in bulk statements."""
    holders = range(1, grants, 2)
    day = now.date()
    with db.uow() as uow:
        connection = uow.session.connection()
        connection.execute(
            insert(Licence),
            [
                {"id": n, "number": f"EX-{n}", "authority": "BIS", "number_key": number_key("BIS", f"EX-{n}"),
                 "kind": "deemed-export",
                 "holder_id": f"U{n:09d}", "valid_from": day, "valid_until": day + timedelta(days=365),
                 "conditions": "", "status": "active", "recorded_by": "bench", "recorded_at": now,
                 "updated_at": now}
                for n in holders
            ],
        )  # fmt: skip
        connection.execute(insert(LicenceModel), [{"licence_id": n, "model": MODEL} for n in holders])
        connection.execute(insert(LicenceCountry), [{"licence_id": n, "country": "DE"} for n in holders])
        uow.commit()


def frontier_order(ctx: Context, now: datetime, action: str = "suspend") -> Draft:
    """The seed situation's directive: MODEL suspended (or, with `action` require-licence, licensed) for
    everyone who is not a US person."""
    return check_draft(
        title="Frontier order",
        authority="Commerce",
        reference="EO-1",
        notice="Mythos 5 may no longer be used by foreign nationals.",
        models=[MODEL],
        known_models=set(ctx.catalog.models),
        population="non-us-persons",
        action=action,
        effective_at=None,
        now=now,
    )
