"""The entitlement rule: every reason it gives, and proof that its SQL form (bot/store/entitlement.py)
gives the same reasons as the function (bot/domain/entitlement.py) for every person and model of a
generated population."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import col, select

from bot.domain.catalog import AVAILABLE, SUSPENDED, Catalog, Model, Policy
from bot.domain.directives import ACTIONS, NOTICE, REQUIRE_LICENCE, SUSPEND, Population, parse_population
from bot.domain.entitlement import (
    CONFIRMABLE,
    DirectiveRule,
    Hold,
    Reason,
    Standing,
    describe,
    refusal_reasons,
)
from bot.domain.licences import Licence, export_countries, number_key
from bot.domain.people import Person
from bot.domain.status import LicenceStatus
from bot.store import tables
from bot.store.db import Database
from bot.store.entitlement import RuleInputs, reason_rows
from bot.store.recheck import grant_reasons

EMBARGOED = frozenset({"CU", "IR", "KP", "SY"})
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def model(slug: str, *, status: str = AVAILABLE, us_only: bool = False) -> Model:
    return Model(
        slug=slug,
        name=slug.title(),
        provider="Lab",
        status=status,
        default_duration=timedelta(days=7),
        max_duration=timedelta(days=30),
        chain="standard",
        us_persons_only=us_only,
    )


FABLE = model("fable-5", us_only=True)
LUMEN = model("lumen-3")
ALICE = Person(
    slack_user_id="U0ALICE01",
    email="alice@example.com",
    name="Alice",
    work_country="US",
    citizenships=frozenset({"US"}),
    us_person=True,
)


def reasons(person: Person | None, m: Model = FABLE, **kwargs: object) -> tuple[Reason, ...]:
    standing = Standing(
        "U0ALICE01", person, bool(kwargs.pop("departed", False)), bool(kwargs.pop("deactivated", False))
    )
    return refusal_reasons(standing, m, embargoed=EMBARGOED, **kwargs)  # type: ignore[arg-type]


def holds(found: tuple[Reason, ...]) -> list[tuple[Hold, bool]]:
    return [(r.hold, r.unknown) for r in found]


# --- the function -------------------------------------------------------------------------------------


def test_a_us_person_in_good_standing_may_use_any_open_model() -> None:
    assert reasons(ALICE) == () and reasons(ALICE, LUMEN) == ()


def test_every_reason_is_given_not_only_the_first() -> None:
    someone = Person(
        slack_user_id="U0ALICE01",
        email="a@example.com",
        name="A",
        work_country="IR",
        citizenships=frozenset({"DE"}),
        us_person=False,
    )
    rule = DirectiveRule(3, frozenset({"fable-5"}), Population("everyone"), SUSPEND)
    found = reasons(
        someone, model("fable-5", status=SUSPENDED, us_only=True), directives=[rule], deactivated=True
    )
    assert [r.label for r in found] == [
        "deactivated",
        "model_suspended",
        "directive:D3",
        "embargo",
        "us_person",
    ]
    assert not any(r.unknown for r in found)


def test_not_in_the_directory_and_departed_are_reasons() -> None:
    assert holds(reasons(None)) == [(Hold.NOT_IN_DIRECTORY, False)]
    assert holds(reasons(ALICE, departed=True)) == [(Hold.DEPARTED, False)]


@pytest.mark.parametrize(
    ("us_person", "expected"),
    [(True, []), (False, [(Hold.US_PERSON, False)]), (None, [(Hold.US_PERSON, True)])],
)
def test_us_persons_only_needs_us_person_yes(
    us_person: bool | None, expected: list[tuple[Hold, bool]]
) -> None:
    from dataclasses import replace

    assert holds(reasons(replace(ALICE, us_person=us_person))) == expected
    assert reasons(replace(ALICE, us_person=us_person), LUMEN) == ()


def test_a_confirmation_covers_a_missing_fact_never_a_refusing_one() -> None:
    from dataclasses import replace

    unknown = replace(ALICE, us_person=None, work_country=None)
    assert holds(reasons(unknown)) == [(Hold.EMBARGO, True), (Hold.US_PERSON, True)]
    assert reasons(unknown, confirmed=frozenset(CONFIRMABLE)) == ()
    refusing = replace(ALICE, us_person=False, citizenships=frozenset({"IR"}))
    assert holds(reasons(refusing, confirmed=frozenset(CONFIRMABLE))) == [
        (Hold.EMBARGO, False),
        (Hold.US_PERSON, False),
    ]


def test_a_notice_only_directive_or_one_on_another_model_is_no_reason() -> None:
    everyone = Population("everyone")
    assert reasons(ALICE, directives=[DirectiveRule(1, frozenset({"fable-5"}), everyone, NOTICE)]) == ()
    assert reasons(ALICE, directives=[DirectiveRule(2, frozenset({"lumen-3"}), everyone, SUSPEND)]) == ()


def test_reasons_in_words_never_name_a_country() -> None:
    for hold in Hold:
        for unknown in (False, True):
            text = describe(Reason(hold, 4 if hold == Hold.DIRECTIVE else None, unknown), "Fable 5")
            assert text and not any(code in text for code in EMBARGOED)


# --- SQL agrees with the function ---------------------------------------------------------------------


MODELS = (
    model("m-open"),
    model("m-us", us_only=True),
    model("m-off", status=SUSPENDED),
    model("m-off-us", status=SUSPENDED, us_only=True),
    model("m-other"),
)
COUNTRIES = ["US", "GB", "FR", "DE", "IR", "KP", "CU", "CN", "IN"]


TODAY = NOW.date()


def random_licences(rng: random.Random, user_ids: list[str], standings: dict[str, Standing]) -> list[Licence]:
    """About one licence for every two people: most held by the person they were made for, covering
    their export countries (when known) for some models, some falling short of a country, held by
    someone else, or not in effect today."""
    licences: list[Licence] = []
    for user_id in user_ids:
        if rng.random() < 0.5:
            continue
        person = standings[user_id].person
        needed = export_countries(person) or frozenset(rng.sample(COUNTRIES, 2))
        countries = set(needed) | set(rng.sample(COUNTRIES, rng.randint(0, 2)))
        if countries and rng.random() < 0.15:
            countries.discard(rng.choice(sorted(countries)))  # falls short of one country
        start = TODAY + timedelta(days=rng.choice([-400, -30, -1, 0, 0, 0, 1, 20]))
        end = max(start, TODAY + timedelta(days=rng.choice([-2, -1, 0, 0, 1, 30, 365])))
        licences.append(
            Licence(
                licence_id=len(licences) + 1,
                holder_id=user_id if rng.random() < 0.9 else rng.choice(user_ids),
                models=frozenset(rng.sample([m.slug for m in MODELS], rng.randint(1, 4))),
                countries=frozenset(countries or {"GB"}),
                valid_from=start,
                valid_until=end,
                status=rng.choice(
                    [*[LicenceStatus.ACTIVE] * 6, LicenceStatus.REVOKED, LicenceStatus.EXPIRED]
                ),
            )
        )
    return licences


def licence_row(licence: Licence) -> dict[str, object]:
    return {
        "id": licence.licence_id,
        "number": f"EX-{licence.licence_id}",
        "authority": "BIS",
        "number_key": number_key("BIS", f"EX-{licence.licence_id}"),
        "kind": "export",
        "holder_id": licence.holder_id,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "conditions": "",
        "status": licence.status,
        "recorded_by": "test",
        "recorded_at": NOW,
        "updated_at": NOW,
    }


def random_population(rng: random.Random, user_ids: list[str]) -> Population:
    kind = rng.choice(["everyone", "non-us-persons", "citizenship", "users"])
    if kind == "citizenship":
        return parse_population(f"citizenship:{';'.join(rng.sample(COUNTRIES, rng.randint(1, 3)))}")
    if kind == "users":
        return parse_population(f"users:{';'.join(rng.sample(user_ids, rng.randint(1, 60)))}")
    return parse_population(kind)


def test_sql_and_the_function_give_the_same_reasons_on_a_generated_population(database: Database) -> None:
    """1,200 people with random facts (US-person yes, no or unknown; none to three citizenships, some
    embargoed; a work country or none; one in twelve missing from the directory, some departed, some
    deactivated in Slack), a grant on each of five models (open, US persons only, suspended, both), random
    confirmations, random directives of every population and action (require-licence among them), and
    random licences (held by the person or someone else; models and countries that cover them or fall
    short; active, revoked, expired, not yet valid or lapsed)."""
    rng = random.Random(20261201)
    user_ids = [f"U{n:08d}" for n in range(1200)]
    standings: dict[str, Standing] = {}
    people_rows, citizenship_rows, account_rows = [], [], []
    for user_id in user_ids:
        if rng.random() < 0.08:
            standings[user_id] = Standing(user_id, None, deactivated=rng.random() < 0.1)
        else:
            person = Person(
                slack_user_id=user_id,
                email=f"{user_id.lower()}@example.com",
                name=user_id,
                work_country=rng.choice([*COUNTRIES, None, None]),
                citizenships=frozenset(rng.sample(COUNTRIES, rng.randint(0, 3))),
                us_person=rng.choice([True, True, False, None]),
            )
            standing = Standing(user_id, person, rng.random() < 0.05, rng.random() < 0.05)
            standings[user_id] = standing
            people_rows.append(
                {
                    "slack_user_id": user_id,
                    "email": person.email,
                    "name": person.name,
                    "work_country": person.work_country,
                    "us_person": person.us_person,
                    "departed_at": NOW if standing.departed else None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            citizenship_rows += [
                {"slack_user_id": user_id, "country": c} for c in sorted(person.citizenships)
            ]
        if standings[user_id].deactivated:
            account_rows.append({"user_id": user_id, "deleted": True, "checked_at": NOW, "changed_at": NOW})
    grant_rows, confirmations = [], {}
    expires = NOW + timedelta(days=30)
    for user_id in user_ids:
        for m in MODELS:
            grant_id = len(grant_rows) + 1
            status = rng.choice(["active", "active", "suspended"])
            grant_rows.append(
                {"id": grant_id, "user_id": user_id, "model": m.slug, "status": status, "starts_at": NOW,
                 "expires_at": expires, "ended_at": None, "created_at": NOW, "updated_at": NOW}
            )  # fmt: skip
            confirmations[grant_id] = frozenset(h for h in CONFIRMABLE if rng.random() < 0.3)
    # Grants the rule has no say over any more: expired by time, or ended.
    ended = {"user_id": "U99999999", "expires_at": NOW - timedelta(seconds=1)}
    grant_rows.append({**grant_rows[0], "id": len(grant_rows) + 1, **ended})
    revoked = {"user_id": "U99999999", "status": "revoked", "ended_at": NOW}
    grant_rows.append({**grant_rows[1], "id": len(grant_rows) + 1, **revoked})
    directives = [
        DirectiveRule(
            n + 1,
            frozenset(rng.sample([m.slug for m in MODELS], rng.randint(1, 3))),
            random_population(rng, user_ids),
            REQUIRE_LICENCE if n < 3 else rng.choice(ACTIONS),
        )
        for n in range(8)
    ]
    licences = random_licences(rng, user_ids, standings)
    for licence in licences:
        holder = standings[licence.holder_id]
        standings[licence.holder_id] = replace(holder, licences=(*holder.licences, licence))
    with database.uow() as uow:
        connection = uow.session.connection()
        connection.execute(insert(tables.Person), people_rows)
        connection.execute(insert(tables.PersonCitizenship), citizenship_rows)
        connection.execute(insert(tables.SlackAccount), account_rows)
        connection.execute(insert(tables.AccessGrant), grant_rows)
        rows = [{"grant_id": g, "hold": str(h)} for g, held in confirmations.items() for h in sorted(held)]
        connection.execute(insert(tables.GrantConfirmation), rows)
        connection.execute(insert(tables.Licence), [licence_row(licence) for licence in licences])
        connection.execute(
            insert(tables.LicenceModel),
            [{"licence_id": x.licence_id, "model": m} for x in licences for m in sorted(x.models)],
        )
        connection.execute(
            insert(tables.LicenceCountry),
            [{"licence_id": x.licence_id, "country": c} for x in licences for c in sorted(x.countries)],
        )
        uow.commit()

    catalog = Catalog(models={m.slug: m for m in MODELS}, policy=Policy(embargoed_countries=EMBARGOED))
    inputs = RuleInputs.of(catalog, directives, TODAY)
    with database.read() as session:
        reason = grant_reasons(inputs, NOW)
        found = session.exec(
            select(reason.c.subject_id, reason.c.hold, reason.c.directive_id, reason.c.unknown)
        ).all()
    by_sql: dict[int, set[tuple[str, int | None, bool]]] = {}
    for grant_id, hold, directive_id, unknown in found:
        by_sql.setdefault(int(grant_id), set()).add((str(hold), directive_id, bool(unknown)))

    models = {m.slug: m for m in MODELS}
    expected: dict[int, set[tuple[str, int | None, bool]]] = {}
    exempted = 0
    for row in grant_rows[: len(user_ids) * len(MODELS)]:
        given = refusal_reasons(
            standings[row["user_id"]],
            models[row["model"]],
            embargoed=EMBARGOED,
            directives=directives,
            confirmed=confirmations[row["id"]],
            on=TODAY,
        )
        unlicensed = refusal_reasons(
            replace(standings[row["user_id"]], licences=()),
            models[row["model"]],
            embargoed=EMBARGOED,
            directives=directives,
            confirmed=confirmations[row["id"]],
            on=TODAY,
        )
        exempted += len(unlicensed) - len(given)
        if given:
            expected[row["id"]] = {(str(r.hold), r.directive_id, r.unknown) for r in given}
    assert by_sql == expected
    # Every reason occurs, with and without certainty where it can be unknown, so agreement is no accident.
    kinds = {(hold, unknown) for reasons_of in expected.values() for hold, _, unknown in reasons_of}
    assert kinds >= {(str(h), False) for h in Hold} | {(str(h), True) for h in CONFIRMABLE}
    assert len(expected) > 1000 and len(expected) < len(user_ids) * len(MODELS)
    # Licences lift many require-licence holds, and leave many others in place.
    licensed_holds = sum(
        1
        for reasons_of in expected.values()
        for hold, d, _ in reasons_of
        if hold == "directive" and d in (1, 2, 3)
    )
    assert exempted > 100 and licensed_holds > 100


def test_pending_requests_are_stopped_only_for_known_facts(database: Database) -> None:
    """The SQL form for pending requests leaves out missing facts (an export-compliance review decides
    them) and requests that are no longer pending."""
    with database.uow() as uow:
        uow.session.add(
            tables.Person(slack_user_id="U0UNKNOWN", email="u@example.com", name="U", us_person=None)
        )
        uow.session.add(
            tables.Person(slack_user_id="U0NOTUS01", email="n@example.com", name="N", us_person=False)
        )
        uow.session.flush()
        for user_id, status in (("U0UNKNOWN", "pending"), ("U0NOTUS01", "pending"), ("U0NOTUS01", "denied")):
            uow.session.add(
                tables.AccessRequest(
                    requester_id=user_id, model="m-us", duration_seconds=60, justification="x", status=status
                )
            )
        uow.commit()
    catalog = Catalog(models={m.slug: m for m in MODELS}, policy=Policy(embargoed_countries=EMBARGOED))
    rows = reason_rows(
        col(tables.AccessRequest.id),
        col(tables.AccessRequest.requester_id),
        col(tables.AccessRequest.model),
        tables.AccessRequest.status == "pending",
        RuleInputs.of(catalog, [], TODAY),
        known_only=True,
    ).subquery()
    with database.read() as session:
        found = session.exec(select(rows.c.user_id, rows.c.hold)).all()
    assert [(u, h) for u, h in found] == [("U0NOTUS01", "us_person")]
