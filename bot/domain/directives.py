"""Directives: orders that restrict models for a population. Pure rules for who is covered and what a
directive does to the catalog; bot/services/directives/ applies them to the database, and
bot/store/directives.py holds the set-based SQL form of the coverage rule (`Population.covers`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.catalog import AVAILABLE, RESTRICTED, SUSPENDED
from bot.domain.countries import country_problem
from bot.domain.people import Person, is_slack_user_id

SUSPEND = "suspend"
REQUIRE_LICENCE = "require-licence"
NOTICE = "notice"
ACTIONS = (SUSPEND, REQUIRE_LICENCE, NOTICE)
# Actions that take access away. Until licences are on file, require-licence acts like suspend: nobody
# covered has a valid licence, so nobody covered keeps access.
RESTRICTING = (SUSPEND, REQUIRE_LICENCE)

# `decided_by` of a pending request a directive stopped (requests denied at submission say "policy").
STOPPED_BY = "directive"

EVERYONE = "everyone"
NON_US_PERSONS = "non-us-persons"
CITIZENSHIP = "citizenship"
USERS = "users"

MAX_TITLE = 150
MAX_AUTHORITY = 150
MAX_REFERENCE = 100
MAX_NOTICE = 2500
MAX_NAMED_USERS = 500


class DirectiveError(ValueError):
    """Bad directive input; the message says what is wrong, `field` which input it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Population:
    kind: str
    countries: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()

    def text(self) -> str:
        """The canonical form, as written on the command line and stored."""
        if self.kind == CITIZENSHIP:
            return f"{CITIZENSHIP}:{';'.join(sorted(self.countries))}"
        if self.kind == USERS:
            return f"{USERS}:{';'.join(sorted(self.users))}"
        return self.kind

    def describe(self) -> str:
        """Words for announcements. Never names a person: channel posts use this too."""
        if self.kind == EVERYONE:
            return "everyone"
        if self.kind == NON_US_PERSONS:
            return "non-US persons (including anyone whose US-person status is not on file)"
        if self.kind == CITIZENSHIP:
            return (
                f"citizens of {', '.join(sorted(self.countries))} "
                "(including anyone whose citizenship is not on file)"
            )
        count = len(self.users)
        return f"{count} named {'person' if count == 1 else 'people'}"

    def covers(self, user_id: str, person: Person | None) -> bool:
        """Whether the population includes this person. Unknown facts count as covered (fail closed)."""
        if self.kind == EVERYONE:
            return True
        if self.kind == USERS:
            return user_id in self.users
        if person is None:
            return True
        if self.kind == NON_US_PERSONS:
            return person.us_person is not True
        return not person.citizenships or bool(person.citizenships & self.countries)


def parse_population(text: str) -> Population:
    raw = (text or "").strip()
    lowered = raw.lower()
    if lowered == EVERYONE:
        return Population(EVERYONE)
    if lowered in (NON_US_PERSONS, "non-us-person", "non-us"):
        return Population(NON_US_PERSONS)
    kind, _, rest = raw.partition(":")
    kind = kind.strip().lower()
    items = [part.strip() for part in re.split(r"[;,\s]+", rest) if part.strip()]
    if kind == CITIZENSHIP:
        if not items:
            raise DirectiveError("population citizenship: needs country codes, e.g. citizenship:IR;KP")
        countries = [item.upper() for item in items]
        for code in countries:
            if problem := country_problem(code):
                raise DirectiveError(f"population {problem}")
        return Population(CITIZENSHIP, countries=frozenset(countries))
    if kind == USERS:
        users = [item.strip("<@>").split("|")[0] for item in items]
        if not users:
            raise DirectiveError("population users: needs Slack user IDs, e.g. users:U024BE7LH;U0G9QF9C6")
        bad = [u for u in users if not is_slack_user_id(u)]
        if bad:
            raise DirectiveError(f"population users: '{bad[0]}' is not a Slack user ID")
        if len(set(users)) > MAX_NAMED_USERS:
            raise DirectiveError(
                f"population users: at most {MAX_NAMED_USERS} people; use another population"
            )
        return Population(USERS, users=frozenset(users))
    raise DirectiveError(
        f"population '{raw[:60]}' is not one of: everyone, non-us-persons, citizenship:XX;YY, users:U1;U2"
    )


def parse_action(text: str) -> str:
    action = (text or "").strip().lower().replace("license", "licence")
    if action not in ACTIONS:
        raise DirectiveError(f"action '{text}' is not one of: {', '.join(ACTIONS)}")
    return action


@dataclass(frozen=True)
class Draft:
    """A directive as entered, checked, before it is stored."""

    title: str
    authority: str
    reference: str
    notice: str
    models: tuple[str, ...]
    population: Population
    action: str
    effective_at: datetime | None  # None: now


def check_draft(
    *,
    title: str,
    authority: str,
    reference: str,
    notice: str,
    models: list[str],
    known_models: set[str],
    population: str,
    action: str,
    effective_at: datetime | None,
    now: datetime,
) -> Draft:
    """Validate every field; raises DirectiveError naming the first problem."""
    fields = {
        "title": (title, MAX_TITLE),
        "authority": (authority, MAX_AUTHORITY),
        "reference": (reference, MAX_REFERENCE),
    }
    cleaned: dict[str, str] = {}
    for name, (value, limit) in fields.items():
        value = (value or "").strip()
        if not value:
            raise DirectiveError(f"{name} is required", name)
        if len(value) > limit:
            raise DirectiveError(f"{name} is longer than {limit} characters", name)
        cleaned[name] = value
    notice = (notice or "").strip()
    if not notice:
        raise DirectiveError("notice text is required: it is what people and channels are told", "notice")
    if len(notice) > MAX_NOTICE:
        raise DirectiveError(
            f"notice text is {len(notice):,} characters; the limit is {MAX_NOTICE:,}", "notice"
        )
    slugs = []
    for slug in models:
        slug = slug.strip().lower()
        if not slug:
            continue
        if slug not in known_models:
            known = ", ".join(sorted(known_models))
            raise DirectiveError(f"model '{slug}' is not in the catalog (known: {known})", "models")
        if slug not in slugs:
            slugs.append(slug)
    if not slugs:
        raise DirectiveError("name at least one model", "models")
    if effective_at is not None:
        if effective_at.tzinfo is None:
            raise DirectiveError(
                "effective time needs a time zone, e.g. 2026-12-01T09:00:00+00:00", "effective"
            )
        if effective_at <= now:
            effective_at = None  # a time already past means "now"
    try:
        parsed_population = parse_population(population)
    except DirectiveError as error:
        raise DirectiveError(str(error), "population") from None
    try:
        parsed_action = parse_action(action)
    except DirectiveError as error:
        raise DirectiveError(str(error), "action") from None
    return Draft(
        title=cleaned["title"],
        authority=cleaned["authority"],
        reference=cleaned["reference"],
        notice=notice,
        models=tuple(slugs),
        population=parsed_population,
        action=parsed_action,
        effective_at=effective_at,
    )


@dataclass(frozen=True)
class InForce:
    """An active directive, as far as the catalog is concerned."""

    models: frozenset[str]
    population: Population
    action: str


def catalog_status(slug: str, configured: str, in_force: list[InForce]) -> str:
    """What the catalog shows: suspended when a restriction covers everyone, restricted when it covers
    part of the company."""
    if configured == SUSPENDED:
        return SUSPENDED
    restricting = [d for d in in_force if slug in d.models and d.action in RESTRICTING]
    if any(d.population.kind == EVERYONE for d in restricting):
        return SUSPENDED
    if restricting:
        return RESTRICTED
    return configured or AVAILABLE
