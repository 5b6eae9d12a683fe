"""Export licences: what one is, when it is in effect, and whether it lets a person use a model that a
`require-licence` directive restricts.

The coverage rule, in plain words (README "Export licences"): a licence covers a person for a model
when it is active and in effect today (between its first and last day, UTC), is held by that person,
names the model, and names every country their access would be an export to: each citizenship on file
other than the United States (a release to a foreign national is a deemed export, 15 CFR 734.13(b)) and
their work country when it is outside the United States (an export, re-export or in-country transfer
to that country, 15 CFR 734.13-734.16). A person whose citizenship or work country is not on file is
never covered: the countries cannot be known, so no licence can be shown to name them (fail closed).

The licence's kind is recorded as the authority issued it and shown to approvers; which kind of
release it permits is for export compliance to judge when recording it, so coverage reads only the
holder, models, countries, dates and status.

bot/store/licences.py holds the set-based SQL form (`covered`); tests/unit/test_entitlement_rule.py
proves the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from bot.domain.countries import country_problem
from bot.domain.people import Person, is_email, is_slack_user_id
from bot.domain.status import LicenceStatus
from bot.domain.text import clean_text, line_problem

UNITED_STATES = "US"

CSV_COLUMNS = (
    "number",
    "authority",
    "kind",
    "holder",
    "models",
    "countries",
    "valid_from",
    "valid_until",
    "conditions",
)
REQUIRED_COLUMNS = CSV_COLUMNS[:-1]

MAX_NUMBER = 64
MAX_AUTHORITY = 100
MAX_CONDITIONS = 2000
MAX_REASON = 500
_LABEL = re.compile(r"[Ll]?(\d{1,10})", re.ASCII)  # ASCII digits only: a fullwidth 1 is not an ID


def number_key(authority: str, number: str) -> str:
    """The key that names one licence: its authority and number case-folded (`BIS` and `bis` name one
    authority, and numbers are not told apart by case either), joined by a control character that
    cleaned text never holds. Folded here, not by SQL's lower(), which SQLite applies to ASCII only."""
    return f"{authority.casefold()}\x1f{number.casefold()}"


class LicenceKind(StrEnum):
    """What the authority licensed (EAR terms): an export from the United States, a re-export from one
    foreign country to another, a transfer within a foreign country, or a release to a foreign national
    (deemed export)."""

    EXPORT = "export"
    RE_EXPORT = "re-export"
    IN_COUNTRY_TRANSFER = "in-country-transfer"
    DEEMED_EXPORT = "deemed-export"


class LicenceError(ValueError):
    """Bad licence input; the message says what is wrong, `field` which input it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LicenceTerms:
    """A licence as recorded, before it has an id: `holder` is a Slack user ID or an e-mail address
    until the directory resolves it; dates are days (UTC), both inclusive."""

    number: str
    authority: str
    kind: LicenceKind
    holder: str
    models: frozenset[str]
    countries: frozenset[str]
    valid_from: date
    valid_until: date
    conditions: str = ""


@dataclass(frozen=True)
class Licence:
    """A recorded licence, as the entitlement rule reads it."""

    licence_id: int
    holder_id: str
    models: frozenset[str]
    countries: frozenset[str]
    valid_from: date
    valid_until: date
    status: LicenceStatus = LicenceStatus.ACTIVE
    # For people reading it (approval messages); the rule does not look at these.
    number: str = ""
    authority: str = ""
    kind: str = ""

    @property
    def label(self) -> str:
        return label(self.licence_id)

    def cite(self) -> str:
        """`L3 (BIS EX-2026-0001, export, until 2027-06-30)`."""
        until = self.valid_until.isoformat()
        return f"{self.label} ({self.authority} {self.number}, {self.kind}, until {until})"

    def in_effect(self, on: date) -> bool:
        """Active, and `on` (a UTC day) is between its first and last day."""
        return self.status == LicenceStatus.ACTIVE and self.valid_from <= on <= self.valid_until


def utc_day(moment: datetime) -> date:
    """The UTC day of an instant: licence dates are days in UTC."""
    return moment.astimezone(UTC).date()


def label(licence_id: int) -> str:
    """How people write a licence: `L3`."""
    return f"L{licence_id}"


def parse_label(text: str) -> int:
    """`L3`, `l3` or `3` -> 3. Raises LicenceError for anything else."""
    match = _LABEL.fullmatch(text.strip())
    if not match or not 0 < int(match.group(1)) <= 2_147_483_647:
        raise LicenceError(f"'{text.strip()[:40]}' is not a licence ID (like L3)", "id")
    return int(match.group(1))


def export_countries(person: Person | None) -> frozenset[str] | None:
    """The countries `person`'s access to a controlled model would be an export to: each citizenship
    other than the United States (deemed export) and the work country when it is not the United
    States. None when either fact is missing: then no licence can cover them."""
    if person is None or not person.citizenships or not person.work_country:
        return None
    return (person.citizenships | {person.work_country}) - {UNITED_STATES}


def covering(
    licences: Iterable[Licence], user_id: str, person: Person | None, model: str, on: date
) -> tuple[Licence, ...]:
    """The licences, by id, that cover `user_id` (their directory entry `person`) for `model` on the
    day `on` (see the module's rule)."""
    needed = export_countries(person)
    if needed is None:
        return ()
    return tuple(
        sorted(
            (
                licence
                for licence in licences
                if licence.holder_id == user_id
                and licence.in_effect(on)
                and model in licence.models
                and needed <= licence.countries
            ),
            key=lambda licence: licence.licence_id,
        )
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _day(value: str, field: str) -> date:
    """A calendar date written YYYY-MM-DD, as documented; Python's ISO 8601 reader alone would also
    take 20261201 and week dates such as 2026W482."""
    try:
        if _DAY.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise LicenceError(f"{field} '{value[:40]}' is not a date (YYYY-MM-DD)", field)


def parse_terms(fields: Mapping[str, str | None], known_models: Iterable[str]) -> LicenceTerms:
    """A licence's fields as typed (CSV cells, CLI options, a Slack form; `models` and `countries`
    separated by `;`) to LicenceTerms. Text is cleaned (control characters dropped) and trimmed; kind
    and countries are matched exactly as documented. Raises LicenceError naming the field and the
    problem: a missing field, an unknown kind or model (not in `known_models`), a country that is not
    an ISO 3166-1 alpha-2 code, a date that is not YYYY-MM-DD, a last day before the first."""

    def text(field: str) -> str:
        return clean_text(fields.get(field) or "").strip()

    def required(field: str, limit: int) -> str:
        value = text(field)
        if not value:
            raise LicenceError(f"{field} is empty", field)
        if len(value) > limit:
            raise LicenceError(f"{field} is longer than {limit} characters", field)
        return value

    def one_line(field: str, limit: int) -> str:
        value = required(field, limit)
        problem = line_problem(value)
        if problem:
            raise LicenceError(f"{field} {problem}: write it on one line as the authority issued it", field)
        return value

    number = one_line("number", MAX_NUMBER)
    authority = one_line("authority", MAX_AUTHORITY)
    kind_text = required("kind", 32)
    try:
        kind = LicenceKind(kind_text.lower())
    except ValueError:
        kinds = ", ".join(k.value for k in LicenceKind)
        raise LicenceError(f"kind '{kind_text[:40]}' is not one of: {kinds}", "kind") from None
    holder = required("holder", 320)
    if not is_slack_user_id(holder) and not is_email(holder.lower()):
        raise LicenceError(
            f"holder '{holder[:40]}' is not a Slack user ID (like U024BE7LH) or an e-mail address", "holder"
        )
    if not is_slack_user_id(holder):
        holder = holder.lower()
    catalog = set(known_models)
    models = _split(text("models"))
    if not models:
        raise LicenceError("models is empty: name the models the licence covers, separated by ;", "models")
    for slug in models:
        if slug not in catalog:
            known = ", ".join(sorted(catalog)) or "none"
            raise LicenceError(f"model '{slug[:64]}' is not in the catalog (models: {known})", "models")
    countries = _split(text("countries"))
    if not countries:
        raise LicenceError(
            "countries is empty: name the countries the licence covers, separated by ;", "countries"
        )
    for code in countries:
        if problem := country_problem(code):
            raise LicenceError(f"countries {problem}", "countries")
    valid_from = _day(required("valid_from", 40), "valid_from")
    valid_until = _day(required("valid_until", 40), "valid_until")
    if valid_until < valid_from:
        raise LicenceError(
            f"valid_until {valid_until.isoformat()} is before valid_from {valid_from.isoformat()}",
            "valid_until",
        )
    conditions = text("conditions")
    if len(conditions) > MAX_CONDITIONS:
        raise LicenceError(f"conditions is longer than {MAX_CONDITIONS} characters", "conditions")
    return LicenceTerms(
        number=number,
        authority=authority,
        kind=kind,
        holder=holder,
        models=frozenset(models),
        countries=frozenset(countries),
        valid_from=valid_from,
        valid_until=valid_until,
        conditions=conditions,
    )
