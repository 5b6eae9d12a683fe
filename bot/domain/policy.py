"""Policy checks for a new access request: small pure functions, each with a plain-words reason.

Each check returns a CheckResult. The outcome decides what happens to the request:
- PASS: fine.
- REFUSE: the request is not filed at all (bad input the person can fix, or nothing to file);
  they are told why.
- DENY: the request is filed and denied at once, with the reason on record.
- REVIEW: a fact is unknown; the request goes on, but an export-compliance step must confirm it, so it can
  never be approved automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.catalog import SUSPENDED, Catalog, Model
from bot.domain.durations import format_duration
from bot.domain.people import Person
from bot.domain.status import GrantStatus

PASS = "pass"
REFUSE = "refuse"
DENY = "deny"
REVIEW = "review"


@dataclass(frozen=True)
class CheckResult:
    check: str
    outcome: str
    reason: str
    directive_id: int | None = None  # set when a directive is the reason

    def as_dict(self) -> dict[str, str | int]:
        data: dict[str, str | int] = {"check": self.check, "outcome": self.outcome, "reason": self.reason}
        if self.directive_id is not None:
            data["directive_id"] = self.directive_id
        return data


@dataclass(frozen=True)
class Existing:
    """What the requester already holds or has asked for on the same model."""

    grant_id: int | None = None
    grant_status: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class Restriction:
    """An active directive that covers this person and model (see bot/domain/directives.py)."""

    directive_id: int
    reference: str
    title: str
    action: str


@dataclass(frozen=True)
class Application:
    model_slug: str
    requester: Person | None
    duration: timedelta | None
    justification: str
    existing: Existing = Existing()
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    results: tuple[CheckResult, ...]
    model: Model | None
    duration: timedelta | None

    @property
    def refusal(self) -> CheckResult | None:
        return next((r for r in self.results if r.outcome == REFUSE), None)

    @property
    def denial(self) -> CheckResult | None:
        return next((r for r in self.results if r.outcome == DENY), None)

    @property
    def reviews(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.outcome == REVIEW)


def check_model(catalog: Catalog, slug: str) -> CheckResult:
    """The model exists and is not suspended in the catalog. (Directives restrict people, not the model:
    see check_directives, so that a denial can cite the directive.)"""
    model = catalog.model(slug)
    if model is None:
        known = ", ".join(sorted(catalog.models)) or "none yet"
        return CheckResult("model", REFUSE, f"There is no model called '{slug}'. Models: {known}.")
    if model.status == SUSPENDED:
        return CheckResult("model", REFUSE, f"{model.name} is suspended: no new access is being granted.")
    return CheckResult("model", PASS, f"{model.name} is open for requests.")


def check_directory(person: Person | None, contact: str) -> CheckResult:
    if person is None:
        return CheckResult(
            "directory",
            REFUSE,
            f"You are not in the AccessBot directory yet, so nobody can approve a request from you. "
            f"Ask {contact} to add you, then try again.",
        )
    return CheckResult("directory", PASS, "Requester is in the directory.")


def check_duplicate(model: Model, existing: Existing) -> CheckResult:
    if existing.grant_id is not None:
        state = "a suspended" if existing.grant_status == GrantStatus.SUSPENDED else "an active"
        return CheckResult(
            "duplicate", REFUSE, f"You already hold {state} grant G{existing.grant_id} for {model.name}."
        )
    if existing.request_id is not None:
        return CheckResult(
            "duplicate",
            REFUSE,
            f"You already have a pending request R{existing.request_id} for {model.name}; "
            f"cancel it first with `/access cancel R{existing.request_id}` if you want to change it.",
        )
    return CheckResult("duplicate", PASS, "No other grant or pending request for this model.")


def check_duration(model: Model, duration: timedelta | None) -> CheckResult:
    chosen = duration or model.default_duration
    if chosen > model.max_duration:
        return CheckResult(
            "duration",
            REFUSE,
            f"{model.name} can be granted for at most {format_duration(model.max_duration)}; "
            f"you asked for {format_duration(chosen)}.",
        )
    return CheckResult("duration", PASS, f"{format_duration(chosen)} is within the {model.name} maximum.")


def check_justification(text: str, min_chars: int, max_chars: int) -> CheckResult:
    length = len(text.strip())
    if length == 0:
        return CheckResult("justification", REFUSE, "Please say why you need access (a justification).")
    if length < min_chars:
        return CheckResult(
            "justification",
            REFUSE,
            f"Your justification is too short ({length} characters); "
            f"approvers need at least {min_chars} characters of explanation.",
        )
    if length > max_chars:
        return CheckResult(
            "justification",
            REFUSE,
            f"Your justification is too long ({length:,} characters); the limit is {max_chars:,}.",
        )
    return CheckResult("justification", PASS, "Justification given.")


def check_embargo(person: Person, embargoed: frozenset[str]) -> CheckResult:
    # The reason never names a country: it may be shown to approvers, and citizenship is sensitive.
    if person.citizenships & embargoed or (person.work_country in embargoed):
        return CheckResult(
            "embargo",
            DENY,
            "A citizenship or work country on file is under an embargo, so access cannot be granted.",
        )
    if not person.citizenships or not person.work_country:
        return CheckResult(
            "embargo",
            REVIEW,
            "Citizenship or work country is not on file: export compliance must confirm eligibility.",
        )
    return CheckResult("embargo", PASS, "No embargoed citizenship or work country on file.")


def check_us_person(model: Model, person: Person) -> CheckResult:
    if not model.us_persons_only:
        return CheckResult("us_person", PASS, f"{model.name} is not limited to US persons.")
    if person.us_person is True:
        return CheckResult("us_person", PASS, "US person, as required for this model.")
    if person.us_person is False:
        return CheckResult(
            "us_person",
            DENY,
            f"{model.name} is limited to US persons, and the directory says you are not one.",
        )
    return CheckResult(
        "us_person",
        REVIEW,
        f"{model.name} is limited to US persons and US-person status is unknown: "
        "export compliance must confirm it before approval.",
    )


def check_directives(model: Model, restrictions: tuple[Restriction, ...]) -> CheckResult:
    if restrictions:
        first = restrictions[0]
        return CheckResult(
            "directive",
            DENY,
            f"Directive D{first.directive_id} ({first.reference}: {first.title}) restricts {model.name} "
            "for you, so access cannot be granted while it is in force.",
            directive_id=first.directive_id,
        )
    return CheckResult("directive", PASS, "No directive restricts this model for the requester.")


def evaluate(catalog: Catalog, application: Application) -> Evaluation:
    """Run every check that applies, in order; stop early only where later checks would be meaningless."""
    policy = catalog.policy
    results = [check_model(catalog, application.model_slug)]
    model = catalog.model(application.model_slug)
    if results[-1].outcome == REFUSE or model is None:
        return Evaluation(tuple(results), model, None)
    results.append(check_directory(application.requester, policy.directory_contact))
    person = application.requester
    if person is None:
        return Evaluation(tuple(results), model, None)
    # A directive in force is the most important thing to tell: it is checked (and cited) before anything
    # the person could fix, and it decides the request on its own.
    results.append(check_directives(model, application.restrictions))
    if results[-1].outcome == DENY:
        return Evaluation(tuple(results), model, application.duration or model.default_duration)
    results.append(check_duplicate(model, application.existing))
    results.append(check_duration(model, application.duration))
    results.append(
        check_justification(
            application.justification, policy.justification_min_chars, policy.justification_max_chars
        )
    )
    results.append(check_embargo(person, policy.embargoed_countries))
    results.append(check_us_person(model, person))
    return Evaluation(tuple(results), model, application.duration or model.default_duration)
