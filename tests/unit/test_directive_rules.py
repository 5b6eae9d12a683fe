"""Directive rules: who a population covers, the actions, checking a draft and what the catalog shows.

The last tests check that the SQL form of the population rule (bot/store/directives.py) selects exactly
the people the Python rule covers, and that reports tell people from channels in SQL as
bot/domain/recipient.py does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import String, literal
from sqlmodel import select

from bot.domain.catalog import AVAILABLE, RESTRICTED, SUSPENDED
from bot.domain.countries import country_problem
from bot.domain.directives import (
    CITIZENSHIP,
    EVERYONE,
    MAX_AUTHORITY,
    MAX_NAMED_USERS,
    MAX_NOTICE,
    MAX_REFERENCE,
    MAX_TITLE,
    NON_US_PERSONS,
    NOTICE,
    REQUIRE_LICENCE,
    SUSPEND,
    USERS,
    DirectiveError,
    Draft,
    InForce,
    Population,
    catalog_status,
    check_draft,
    parse_action,
    parse_population,
)
from bot.domain.people import Person
from bot.domain.recipient import Recipient, is_user_id
from bot.store import tables
from bot.store.db import Database
from bot.store.directive_notices import is_person_address
from bot.store.directives import Reach, held_grants

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KNOWN_MODELS = {"mythos-5", "fable-5", "sonnet-lite"}

ALICE = "U0ALICE01"
BORIS = "U0BORIS01"


def timezone_plus(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


def person(user_id: str, *, us_person: bool | None = None, citizenships: str = "") -> Person:
    return Person(
        slack_user_id=user_id,
        email=f"{user_id.lower()}@example.com",
        name=f"Person {user_id}",
        us_person=us_person,
        citizenships=frozenset(code for code in citizenships.split(";") if code),
    )


def population_error(text: str) -> str:
    with pytest.raises(DirectiveError) as caught:
        parse_population(text)
    return str(caught.value)


# --- parse_population ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["everyone", "Everyone", "  EVERYONE  "])
def test_everyone(text: str) -> None:
    population = parse_population(text)
    assert population.kind == EVERYONE
    assert population.text() == "everyone"


@pytest.mark.parametrize(
    "text", ["non-us-persons", "non-us-person", "non-us", "Non-US-Persons", " NON-US ", "non-US-person"]
)
def test_non_us_persons_and_its_aliases(text: str) -> None:
    population = parse_population(text)
    assert population.kind == NON_US_PERSONS
    assert population.text() == "non-us-persons"


@pytest.mark.parametrize(
    "text",
    [
        "citizenship:IR;KP",
        "citizenship:KP;IR",
        "citizenship:ir;kp",
        "Citizenship:Ir;kP",
        "CITIZENSHIP:IR,KP",
        "citizenship:IR KP",
        "citizenship: IR ; KP ",
        "citizenship:IR;;KP;",
        "citizenship:IR, KP",
        "citizenship:IR;KP;IR",
    ],
)
def test_citizenship_lists_are_read_whatever_the_case_and_separators(text: str) -> None:
    population = parse_population(text)
    assert population.kind == CITIZENSHIP
    assert population.countries == frozenset({"IR", "KP"})
    assert population.text() == "citizenship:IR;KP"


def test_citizenship_with_one_country() -> None:
    assert parse_population("citizenship:cu") == Population(CITIZENSHIP, countries=frozenset({"CU"}))


@pytest.mark.parametrize("code", ["UK", "uk", "EL", "KS", "XK", "ZZ", "IRN", "I", "12"])
def test_citizenship_refuses_codes_iso_does_not_assign_with_the_directory_hints(code: str) -> None:
    message = population_error(f"citizenship:IR;{code}")
    expected = country_problem(code.upper())
    assert expected is not None
    assert message == f"population {expected}"


def test_citizenship_hints_point_to_the_right_code() -> None:
    assert "did you mean GB?" in population_error("citizenship:UK")
    assert "did you mean GR?" in population_error("citizenship:el")
    assert "Kosovo has no assigned code" in population_error("citizenship:KS")
    assert "'ZZ' is not an ISO 3166-1 alpha-2 country code" in population_error("citizenship:zz")


@pytest.mark.parametrize("text", ["citizenship:", "citizenship", "citizenship: ;, ", "citizenship:;"])
def test_citizenship_without_countries_is_refused(text: str) -> None:
    assert population_error(text) == "population citizenship: needs country codes, e.g. citizenship:IR;KP"


@pytest.mark.parametrize(
    "text",
    [
        "users:U024BE7LH;U0G9QF9C6",
        "users:U0G9QF9C6;U024BE7LH",
        "USERS:U024BE7LH,U0G9QF9C6",
        "users: U024BE7LH U0G9QF9C6 ",
        "users:<@U024BE7LH>;<@U0G9QF9C6>",
        "users:<@U024BE7LH|bronte> <@U0G9QF9C6|ilya>",
        "users:U024BE7LH;<@U0G9QF9C6|ilya>;U024BE7LH",
    ],
)
def test_named_users_plain_and_as_mentions(text: str) -> None:
    population = parse_population(text)
    assert population.kind == USERS
    assert population.users == frozenset({"U024BE7LH", "U0G9QF9C6"})
    assert population.text() == "users:U024BE7LH;U0G9QF9C6"


def test_named_users_accepts_enterprise_ids() -> None:
    assert parse_population("users:W012A3CDE").users == frozenset({"W012A3CDE"})


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("users:U024BE7LH;alice", "alice"),
        ("users:u024be7lh", "u024be7lh"),
        ("users:C024BE7LH", "C024BE7LH"),
        ("users:<@U024BE7LH>;@boris", "boris"),
        ("users:U1", "U1"),
        ("users:alice@example.com", "alice@example.com"),
    ],
)
def test_named_users_refuses_what_is_not_a_slack_user_id(text: str, bad: str) -> None:
    assert population_error(text) == f"population users: '{bad}' is not a Slack user ID"


@pytest.mark.parametrize("text", ["users:", "users", "users: ; ,"])
def test_named_users_without_anyone_is_refused(text: str) -> None:
    message = population_error(text)
    assert message.startswith("population users: needs Slack user IDs")


def test_named_users_are_limited() -> None:
    ids = [f"U{n:08d}" for n in range(MAX_NAMED_USERS)]
    assert len(parse_population("users:" + ";".join(ids)).users) == MAX_NAMED_USERS
    # Repeating someone does not count twice.
    assert len(parse_population("users:" + ";".join([*ids, ids[0]])).users) == MAX_NAMED_USERS
    message = population_error("users:" + ";".join([*ids, "U99999999"]))
    assert message == f"population users: at most {MAX_NAMED_USERS} people; use another population"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "anyone", "us-persons", "non-us-persons:IR", "everyone:U024BE7LH", "country:IR", "IR;KP"],
)
def test_anything_else_is_refused_naming_the_accepted_forms(text: str) -> None:
    message = population_error(text)
    assert f"population '{text.strip()}' is not one of:" in message
    for form in ("everyone", "non-us-persons", "citizenship:XX;YY", "users:U1;U2"):
        assert form in message


def test_a_long_unknown_population_is_quoted_only_in_part() -> None:
    message = population_error("x" * 5000)
    assert len(message) < 200


def test_refusals_are_value_errors_without_a_field() -> None:
    with pytest.raises(ValueError) as caught:
        parse_population("nobody")
    assert isinstance(caught.value, DirectiveError)
    assert caught.value.field is None


@pytest.mark.parametrize(
    "population",
    [
        Population(EVERYONE),
        Population(NON_US_PERSONS),
        Population(CITIZENSHIP, countries=frozenset({"IR"})),
        Population(CITIZENSHIP, countries=frozenset({"KP", "IR", "CU"})),
        Population(USERS, users=frozenset({"U024BE7LH"})),
        Population(USERS, users=frozenset({"W012A3CDE", "U0G9QF9C6", "U024BE7LH"})),
    ],
)
def test_text_round_trips(population: Population) -> None:
    text = population.text()
    assert parse_population(text) == population
    assert parse_population(text).text() == text


def test_text_is_canonical_and_sorted() -> None:
    assert Population(CITIZENSHIP, countries=frozenset({"KP", "CU", "IR"})).text() == "citizenship:CU;IR;KP"
    assert Population(USERS, users=frozenset({"U0B00000", "U0A00000"})).text() == "users:U0A00000;U0B00000"


# --- Population.covers --------------------------------------------------------------------------------


US_CITIZEN = person("U0USCIT01", us_person=True, citizenships="US")
IRANIAN = person("U0IRAN001", us_person=False, citizenships="IR")
DUAL_US_IR = person("U0DUAL001", us_person=True, citizenships="US;IR")
BRITON = person("U0BRIT001", us_person=False, citizenships="GB")
UNKNOWN_STATUS = person("U0UNKN001", us_person=None, citizenships="FR")
NO_FACTS = person("U0NONE001")
US_PERSON_NO_CITIZENSHIP = person("U0GREEN01", us_person=True)
DIRECTORY = [US_CITIZEN, IRANIAN, DUAL_US_IR, BRITON, UNKNOWN_STATUS, NO_FACTS, US_PERSON_NO_CITIZENSHIP]
NOT_IN_DIRECTORY = ["U0GHOST01", "W0GHOST02"]


def covered(population: Population) -> set[str]:
    """Who the population covers among the directory and the people missing from it."""
    everybody: list[tuple[str, Person | None]] = [(p.slack_user_id, p) for p in DIRECTORY]
    everybody += [(user_id, None) for user_id in NOT_IN_DIRECTORY]
    return {user_id for user_id, who in everybody if population.covers(user_id, who)}


def test_everyone_covers_all() -> None:
    assert covered(Population(EVERYONE)) == {p.slack_user_id for p in DIRECTORY} | set(NOT_IN_DIRECTORY)


def test_non_us_persons_fails_closed() -> None:
    population = parse_population("non-us-persons")
    assert population.covers(IRANIAN.slack_user_id, IRANIAN)  # us_person False
    assert population.covers(UNKNOWN_STATUS.slack_user_id, UNKNOWN_STATUS)  # us_person unknown
    assert population.covers(NO_FACTS.slack_user_id, NO_FACTS)
    assert population.covers("U0GHOST01", None)  # not in the directory
    assert not population.covers(US_CITIZEN.slack_user_id, US_CITIZEN)
    assert not population.covers(DUAL_US_IR.slack_user_id, DUAL_US_IR)
    assert not population.covers(US_PERSON_NO_CITIZENSHIP.slack_user_id, US_PERSON_NO_CITIZENSHIP)
    assert covered(population) == {
        IRANIAN.slack_user_id,
        BRITON.slack_user_id,
        UNKNOWN_STATUS.slack_user_id,
        NO_FACTS.slack_user_id,
        *NOT_IN_DIRECTORY,
    }


def test_citizenship_covers_listed_citizens_and_anyone_without_citizenship_on_file() -> None:
    population = parse_population("citizenship:IR;KP")
    assert population.covers(IRANIAN.slack_user_id, IRANIAN)
    assert population.covers(DUAL_US_IR.slack_user_id, DUAL_US_IR)  # any listed citizenship counts
    assert population.covers(NO_FACTS.slack_user_id, NO_FACTS)
    assert population.covers(US_PERSON_NO_CITIZENSHIP.slack_user_id, US_PERSON_NO_CITIZENSHIP)
    assert population.covers("U0GHOST01", None)
    assert not population.covers(US_CITIZEN.slack_user_id, US_CITIZEN)
    assert not population.covers(BRITON.slack_user_id, BRITON)
    assert not population.covers(UNKNOWN_STATUS.slack_user_id, UNKNOWN_STATUS)  # citizenship FR on file
    assert covered(population) == {
        IRANIAN.slack_user_id,
        DUAL_US_IR.slack_user_id,
        NO_FACTS.slack_user_id,
        US_PERSON_NO_CITIZENSHIP.slack_user_id,
        *NOT_IN_DIRECTORY,
    }


def test_citizenship_of_a_country_nobody_holds_covers_only_people_without_citizenship() -> None:
    assert covered(parse_population("citizenship:KP")) == {
        NO_FACTS.slack_user_id,
        US_PERSON_NO_CITIZENSHIP.slack_user_id,
        *NOT_IN_DIRECTORY,
    }


def test_named_users_covers_exactly_those_named() -> None:
    population = parse_population(f"users:{US_CITIZEN.slack_user_id};{IRANIAN.slack_user_id};U0GHOST01")
    assert covered(population) == {US_CITIZEN.slack_user_id, IRANIAN.slack_user_id, "U0GHOST01"}
    # Facts on file do not matter: a named US person is covered, an unnamed unknown is not.
    assert population.covers(US_CITIZEN.slack_user_id, US_CITIZEN)
    assert not population.covers(NO_FACTS.slack_user_id, NO_FACTS)
    assert not population.covers("W0GHOST02", None)


def test_named_users_match_the_id_not_the_directory_row() -> None:
    population = parse_population(f"users:{ALICE}")
    assert population.covers(ALICE, None)
    assert population.covers(ALICE, person(ALICE, us_person=True, citizenships="US"))
    assert not population.covers(BORIS, person(ALICE))


# --- describe -----------------------------------------------------------------------------------------


def test_describe_named_people_says_only_how_many() -> None:
    one = parse_population(f"users:{ALICE}")
    two = parse_population(f"users:<@{ALICE}|alice>;<@{BORIS}|boris>")
    assert one.describe() == "1 named person"
    assert two.describe() == "2 named people"
    for population, names in ((one, [ALICE, "alice"]), (two, [ALICE, BORIS, "alice", "boris"])):
        described = population.describe()
        for name in names:
            assert name.lower() not in described.lower()
        assert "U0" not in described


def test_describe_many_named_people() -> None:
    ids = [f"U{n:08d}" for n in range(MAX_NAMED_USERS)]
    described = parse_population("users:" + ",".join(ids)).describe()
    assert described == f"{MAX_NAMED_USERS} named people"


@pytest.mark.parametrize(
    "text", ["everyone", "non-us-persons", "citizenship:IR;KP", f"users:{ALICE};{BORIS}", f"users:{ALICE}"]
)
def test_describe_never_contains_a_user_id(text: str) -> None:
    described = parse_population(text).describe()
    assert ALICE not in described
    assert BORIS not in described
    assert "users:" not in described


def test_describe_citizenship_lists_the_codes_and_says_unknowns_are_included() -> None:
    described = parse_population("citizenship:kp;ir;CU").describe()
    assert "CU, IR, KP" in described
    assert "not on file" in described


def test_describe_non_us_persons_says_unknowns_are_included() -> None:
    described = parse_population("non-us").describe()
    assert "non-US persons" in described
    assert "not on file" in described


def test_describe_everyone() -> None:
    assert parse_population("everyone").describe() == "everyone"


# --- parse_action -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("suspend", SUSPEND),
        (" Suspend ", SUSPEND),
        ("require-licence", REQUIRE_LICENCE),
        ("require-license", REQUIRE_LICENCE),
        ("Require-License", REQUIRE_LICENCE),
        ("notice", NOTICE),
        ("NOTICE", NOTICE),
    ],
)
def test_actions(text: str, action: str) -> None:
    assert parse_action(text) == action


@pytest.mark.parametrize(
    "text", ["", "   ", "suspended", "ban", "revoke", "require licence", "licence", "notify", "delete"]
)
def test_other_actions_are_refused(text: str) -> None:
    with pytest.raises(DirectiveError) as caught:
        parse_action(text)
    message = str(caught.value)
    assert f"action '{text}' is not one of:" in message
    for action in ("suspend", "require-licence", "notice"):
        assert action in message


# --- check_draft --------------------------------------------------------------------------------------


def draft(**overrides: Any) -> Draft:
    fields: dict[str, Any] = {
        "title": "Frontier models barred to foreign nationals",
        "authority": "US Department of Commerce",
        "reference": "EO-2026-117",
        "notice": "Mythos 5 may no longer be used by foreign nationals. Questions: #ai-access-help.",
        "models": ["mythos-5"],
        "known_models": KNOWN_MODELS,
        "population": "non-us-persons",
        "action": "suspend",
        "effective_at": None,
        "now": NOW,
    }
    fields.update(overrides)
    return check_draft(**fields)


def draft_error(**overrides: Any) -> DirectiveError:
    with pytest.raises(DirectiveError) as caught:
        draft(**overrides)
    return caught.value


def test_a_good_draft_is_cleaned() -> None:
    checked = draft(
        title="  Frontier models barred  ",
        authority=" Commerce ",
        reference=" EO-2026-117\n",
        notice="\n Notice text. \n",
        models=[" Mythos-5 ", "fable-5"],
        population="Citizenship:ir,kp",
        action="Require-License",
    )
    assert checked == Draft(
        title="Frontier models barred",
        authority="Commerce",
        reference="EO-2026-117",
        notice="Notice text.",
        models=("mythos-5", "fable-5"),
        population=Population(CITIZENSHIP, countries=frozenset({"IR", "KP"})),
        action=REQUIRE_LICENCE,
        effective_at=None,
    )


@pytest.mark.parametrize("field", ["title", "authority", "reference", "notice"])
@pytest.mark.parametrize("empty", ["", "   ", "\n\t", None])
def test_text_fields_are_required(field: str, empty: str | None) -> None:
    error = draft_error(**{field: empty})
    assert error.field == field
    assert "required" in str(error)


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("title", MAX_TITLE),
        ("authority", MAX_AUTHORITY),
        ("reference", MAX_REFERENCE),
        ("notice", MAX_NOTICE),
    ],
)
def test_text_fields_are_length_limited(field: str, limit: int) -> None:
    assert len(getattr(draft(**{field: "x" * limit}), field)) == limit
    # Surrounding white space does not count.
    assert len(getattr(draft(**{field: f"  {'x' * limit}  "}), field)) == limit
    error = draft_error(**{field: "x" * (limit + 1)})
    assert error.field == field
    assert f"{limit:,}" in str(error) or str(limit) in str(error)


def test_the_notice_limit_says_how_long_the_text_is() -> None:
    error = draft_error(notice="x" * 3000)
    assert str(error) == f"notice text is 3,000 characters; the limit is {MAX_NOTICE:,}"


@pytest.mark.parametrize("models", [[], [""], ["  ", ""]])
def test_models_are_required(models: list[str]) -> None:
    error = draft_error(models=models)
    assert error.field == "models"
    assert str(error) == "name at least one model"


def test_an_unknown_model_is_refused_naming_the_known_ones() -> None:
    message = str(draft_error(models=["mythos-5", "gpt-17"]))
    assert "'gpt-17' is not in the catalog" in message
    assert "fable-5, mythos-5, sonnet-lite" in message


def test_an_unknown_model_is_blamed_on_the_models_field() -> None:
    assert draft_error(models=["gpt-17"]).field == "models"


def test_duplicate_models_collapse_in_order() -> None:
    checked = draft(models=["fable-5", "mythos-5", "FABLE-5", " mythos-5", "sonnet-lite", "fable-5"])
    assert checked.models == ("fable-5", "mythos-5", "sonnet-lite")


@pytest.mark.parametrize("population", ["", "  ", "nobody", "citizenship:UK", "users:alice", "users:"])
def test_a_bad_population_is_blamed_on_the_population_field(population: str) -> None:
    error = draft_error(population=population)
    assert error.field == "population"
    assert str(error) == population_error(population)


@pytest.mark.parametrize("action", ["", "ban", "suspended"])
def test_a_bad_action_is_blamed_on_the_action_field(action: str) -> None:
    error = draft_error(action=action)
    assert error.field == "action"
    assert f"action '{action}' is not one of" in str(error)


def test_an_effective_time_needs_a_time_zone() -> None:
    error = draft_error(effective_at=datetime(2026, 12, 1, 9, 0))
    assert error.field == "effective"
    assert "time zone" in str(error)


@pytest.mark.parametrize(
    "effective_at",
    [NOW - timedelta(days=30), NOW - timedelta(seconds=1), NOW, NOW.astimezone(timezone_plus(5))],
)
def test_an_effective_time_already_past_means_now(effective_at: datetime) -> None:
    assert draft(effective_at=effective_at).effective_at is None


def test_a_future_effective_time_is_kept() -> None:
    later = datetime(2026, 12, 1, 9, 0, tzinfo=timezone_plus(-5))
    assert draft(effective_at=later).effective_at == later
    assert draft(effective_at=NOW + timedelta(seconds=1)).effective_at == NOW + timedelta(seconds=1)


def test_the_first_problem_is_reported() -> None:
    error = draft_error(title="", notice="", models=[], population="nobody", action="ban")
    assert error.field == "title"
    error = draft_error(notice="", models=[], population="nobody", action="ban")
    assert error.field == "notice"
    error = draft_error(models=[], population="nobody", action="ban")
    assert error.field == "models"


# --- catalog_status -----------------------------------------------------------------------------------


def in_force(population: str, action: str, *models: str) -> InForce:
    return InForce(frozenset(models or ("mythos-5",)), parse_population(population), action)


def test_a_configured_suspension_stays() -> None:
    assert catalog_status("mythos-5", SUSPENDED, []) == SUSPENDED
    assert catalog_status("mythos-5", SUSPENDED, [in_force("citizenship:IR", SUSPEND)]) == SUSPENDED
    assert catalog_status("mythos-5", SUSPENDED, [in_force("everyone", NOTICE)]) == SUSPENDED


def test_without_directives_the_configured_status_shows() -> None:
    assert catalog_status("mythos-5", AVAILABLE, []) == AVAILABLE
    assert catalog_status("mythos-5", "", []) == AVAILABLE


@pytest.mark.parametrize("action", [SUSPEND, REQUIRE_LICENCE])
def test_a_restriction_covering_everyone_suspends_the_model(action: str) -> None:
    assert catalog_status("mythos-5", AVAILABLE, [in_force("everyone", action)]) == SUSPENDED
    # Also alongside a narrower one, in either order.
    both = [in_force("non-us-persons", SUSPEND), in_force("everyone", action)]
    assert catalog_status("mythos-5", AVAILABLE, both) == SUSPENDED
    assert catalog_status("mythos-5", AVAILABLE, both[::-1]) == SUSPENDED


@pytest.mark.parametrize("action", [SUSPEND, REQUIRE_LICENCE])
@pytest.mark.parametrize("population", ["non-us-persons", "citizenship:IR;KP", f"users:{ALICE}"])
def test_a_restriction_covering_part_of_the_company_restricts_the_model(population: str, action: str) -> None:
    assert catalog_status("mythos-5", AVAILABLE, [in_force(population, action)]) == RESTRICTED


@pytest.mark.parametrize("population", ["everyone", "non-us-persons", "citizenship:IR", f"users:{ALICE}"])
def test_a_notice_changes_nothing(population: str) -> None:
    assert catalog_status("mythos-5", AVAILABLE, [in_force(population, NOTICE)]) == AVAILABLE
    assert catalog_status("mythos-5", AVAILABLE, [in_force(population, NOTICE, "mythos-5", "fable-5")]) == (
        AVAILABLE
    )


def test_a_notice_does_not_lift_a_restriction() -> None:
    directives = [in_force("everyone", NOTICE), in_force("citizenship:IR", SUSPEND)]
    assert catalog_status("mythos-5", AVAILABLE, directives) == RESTRICTED


def test_directives_for_other_models_change_nothing() -> None:
    others = [
        in_force("everyone", SUSPEND, "fable-5"),
        in_force("non-us-persons", REQUIRE_LICENCE, "fable-5", "sonnet-lite"),
    ]
    assert catalog_status("mythos-5", AVAILABLE, others) == AVAILABLE
    assert catalog_status("fable-5", AVAILABLE, others) == SUSPENDED
    assert catalog_status("sonnet-lite", AVAILABLE, others) == RESTRICTED


def test_a_directive_on_several_models_applies_to_each() -> None:
    directive = [in_force("citizenship:IR", SUSPEND, "mythos-5", "fable-5")]
    assert catalog_status("mythos-5", AVAILABLE, directive) == RESTRICTED
    assert catalog_status("fable-5", AVAILABLE, directive) == RESTRICTED
    assert catalog_status("sonnet-lite", AVAILABLE, directive) == AVAILABLE


# --- the SQL rule agrees with the Python rule ---------------------------------------------------------


MODEL = "mythos-5"


def add_people_with_grants(db: Database) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    with db.uow() as uow:
        for who in DIRECTORY:
            uow.session.add(
                tables.Person(
                    slack_user_id=who.slack_user_id, email=who.email, name=who.name, us_person=who.us_person
                )
            )
        uow.session.flush()
        for who in DIRECTORY:
            for country in sorted(who.citizenships):
                uow.session.add(tables.PersonCitizenship(slack_user_id=who.slack_user_id, country=country))
        for user_id in [*(p.slack_user_id for p in DIRECTORY), *NOT_IN_DIRECTORY]:
            uow.session.add(tables.AccessGrant(user_id=user_id, model=MODEL, expires_at=expires))
        uow.commit()


AGREEMENT_POPULATIONS = [
    "everyone",
    "non-us-persons",
    "citizenship:IR",
    "citizenship:IR;GB",
    "citizenship:KP",
    "citizenship:GB;FR",
    "citizenship:US",
    f"users:{US_CITIZEN.slack_user_id}",
    f"users:{IRANIAN.slack_user_id};{NO_FACTS.slack_user_id};U0GHOST01",
    "users:W0GHOST02;U0NOGRANT1",
]


def test_sql_and_python_populations_agree(database: Database) -> None:
    add_people_with_grants(database)
    directory = {p.slack_user_id: p for p in DIRECTORY}
    holders = [p.slack_user_id for p in DIRECTORY] + NOT_IN_DIRECTORY
    seen: set[frozenset[str]] = set()
    for text in AGREEMENT_POPULATIONS:
        population = parse_population(text)
        with database.read() as session:
            selected = set(
                session.exec(
                    select(tables.AccessGrant.user_id).where(held_grants(Reach((MODEL,), population)))
                ).all()
            )
        expected = {user_id for user_id in holders if population.covers(user_id, directory.get(user_id))}
        assert selected == expected, text
        seen.add(frozenset(expected))
    # The populations pick out different groups, so agreement is not a coincidence of empty sets.
    assert len(seen) == len(AGREEMENT_POPULATIONS)


def test_sql_population_selects_only_held_grants_on_the_named_models(database: Database) -> None:
    add_people_with_grants(database)
    with database.read() as session:
        everyone = parse_population("everyone")
        on_other_model = session.exec(
            select(tables.AccessGrant.user_id).where(held_grants(Reach(("fable-5",), everyone)))
        ).all()
    assert on_other_model == []


def test_sql_and_python_populations_agree_on_a_generated_population(database: Database) -> None:
    """1,000 people with random facts (US-person yes, no or unknown; none to three citizenships; one in
    ten missing from the directory), and random populations of every kind."""
    rng = random.Random(20261130)
    countries = ["US", "GB", "FR", "DE", "IR", "KP", "CN", "IN"]
    people: dict[str, Person | None] = {}
    expires = datetime.now(UTC) + timedelta(days=30)
    with database.uow() as uow:
        for n in range(1000):
            user_id = f"U{n:08d}"
            if rng.random() < 0.1:
                people[user_id] = None
            else:
                us_person = rng.choice([True, False, None])
                held = frozenset(rng.sample(countries, rng.randint(0, 3)))
                people[user_id] = Person(
                    slack_user_id=user_id,
                    email=f"{user_id.lower()}@example.com",
                    name=user_id,
                    us_person=us_person,
                    citizenships=held,
                )
                uow.session.add(
                    tables.Person(slack_user_id=user_id, email=f"{user_id.lower()}@example.com",
                                  name=user_id, us_person=us_person)
                )  # fmt: skip
                uow.session.flush()
                uow.session.add_all(tables.PersonCitizenship(slack_user_id=user_id, country=c) for c in held)
            uow.session.add(tables.AccessGrant(user_id=user_id, model=MODEL, expires_at=expires))
        uow.commit()
    texts = ["everyone", "non-us-persons"]
    texts += [f"citizenship:{';'.join(rng.sample(countries, rng.randint(1, 3)))}" for _ in range(12)]
    texts += [f"users:{';'.join(rng.sample(sorted(people), rng.randint(1, 40)))}" for _ in range(6)]
    for text in texts:
        population = parse_population(text)
        with database.read() as session:
            selected = set(
                session.exec(
                    select(tables.AccessGrant.user_id).where(held_grants(Reach((MODEL,), population)))
                ).all()
            )
        expected = {user_id for user_id, person in people.items() if population.covers(user_id, person)}
        assert selected == expected, text


ADDRESSES = [
    "U024BE7LH",
    "W012A3CDE",
    "C024BE7LH",
    "G024BE7LH",
    "D024BE7LH",
    "u024be7lh",
    "0U24BE7LH",
    "https://hooks.slack.com/actions/T1/1/abc",
    "",
]


def test_sql_and_python_tell_people_from_channels_alike(database: Database) -> None:
    """A report counts the people its notices went to in SQL; the report's list sorts them in Python."""
    with database.read() as session:
        for address in ADDRESSES:
            in_sql = bool(session.exec(select(is_person_address(literal(address, String)))).one())
            assert in_sql == is_user_id(address), address
            if address:
                assert in_sql == Recipient.of(address).is_person, address
