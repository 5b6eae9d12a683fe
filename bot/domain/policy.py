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
from datetime import date, timedelta

from bot.domain.catalog import Catalog, Model
from bot.domain.directives import Population
from bot.domain.durations import format_duration
from bot.domain.entitlement import (
    DirectiveRule,
    Hold,
    Reason,
    Standing,
    exempting_licences,
    refusal_reasons,
)
from bot.domain.licences import Licence
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
    licences: tuple[int, ...] = ()  # licences that let the request past a require-licence directive

    def as_dict(self) -> dict[str, str | int | list[int]]:
        data: dict[str, str | int | list[int]] = {
            "check": self.check,
            "outcome": self.outcome,
            "reason": self.reason,
        }
        if self.directive_id is not None:
            data["directive_id"] = self.directive_id
        if self.licences:
            data["licences"] = list(self.licences)
        return data


@dataclass(frozen=True)
class Existing:
    """What the requester already holds or has asked for on the same model."""

    grant_id: int | None = None
    grant_status: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class Restriction:
    """A restricting directive in force that names the model; the entitlement rule decides whether it
    covers the requester (bot/domain/entitlement.py)."""

    directive_id: int
    reference: str
    title: str
    action: str
    models: frozenset[str]
    population: Population

    @property
    def rule(self) -> DirectiveRule:
        return DirectiveRule(self.directive_id, self.models, self.population, self.action)


@dataclass(frozen=True)
class Application:
    model_slug: str
    requester: Person | None
    duration: timedelta | None
    justification: str
    existing: Existing = Existing()
    restrictions: tuple[Restriction, ...] = ()
    # The rest of the requester's standing (bot/domain/entitlement.py Standing), and the day (UTC)
    # their licences are judged on (None: no licence counts).
    departed: bool = False
    deactivated: bool = False
    licences: tuple[Licence, ...] = ()
    on: date | None = None
    extending: int | None = None  # the grant an extension asks to extend (the requester's, on the model)

    def standing(self, user_id: str) -> Standing:
        return Standing(user_id, self.requester, self.departed, self.deactivated, self.licences)


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
    """The model exists in the catalog."""
    model = catalog.model(slug)
    if model is None:
        known = ", ".join(sorted(catalog.models)) or "none yet"
        return CheckResult("model", REFUSE, f"There is no model called '{slug}'. Models: {known}.")
    return CheckResult("model", PASS, f"{model.name} is open for requests.")


def check_model_status(model: Model, reasons: tuple[Reason, ...]) -> CheckResult:
    """The model is not suspended in the catalog (the rule's MODEL_SUSPENDED). Directives restrict
    people, not the model: see check_directives, so that a denial can cite the directive."""
    if _held(reasons, Hold.MODEL_SUSPENDED):
        return CheckResult("model", REFUSE, f"{model.name} is suspended: no new access is being granted.")
    return CheckResult("model", PASS, f"{model.name} is open for requests.")


def _held(reasons: tuple[Reason, ...], hold: Hold) -> Reason | None:
    return next((r for r in reasons if r.hold == hold), None)


def check_directory(reasons: tuple[Reason, ...], contact: str) -> CheckResult:
    """The requester is in the directory and has not departed from it; Slack does not report their
    account deactivated."""
    if _held(reasons, Hold.DEPARTED):
        return CheckResult(
            "directory",
            REFUSE,
            f"The AccessBot directory records you as having left, so nobody can approve a request from "
            f"you. If that is a mistake, ask {contact} to list you again, then try again.",
        )
    if _held(reasons, Hold.NOT_IN_DIRECTORY):
        return CheckResult(
            "directory",
            REFUSE,
            f"You are not in the AccessBot directory yet, so nobody can approve a request from you. "
            f"Ask {contact} to add you, then try again.",
        )
    if _held(reasons, Hold.DEACTIVATED):
        return CheckResult(
            "directory", DENY, "Slack reports this account as deactivated, so access cannot be granted."
        )
    return CheckResult("directory", PASS, "Requester is in the directory.")


def check_duplicate(model: Model, existing: Existing, extending: int | None = None) -> CheckResult:
    """Refuse a second grant or pending request for the same model. An extension (`extending`) must be
    of the active grant the requester holds, with no request of theirs for the model waiting."""
    if extending is not None and existing.request_id is None:
        if existing.grant_id != extending or existing.grant_status != GrantStatus.ACTIVE:
            return CheckResult(
                "duplicate", REFUSE, f"You hold no active grant G{extending} for {model.name}."
            )
        return CheckResult("duplicate", PASS, f"Extends G{extending}.")
    if existing.grant_id is not None and extending is None:
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


def check_embargo(reasons: tuple[Reason, ...]) -> CheckResult:
    """The rule's EMBARGO reason: a refusing fact denies, a missing one goes to export compliance."""
    # The reason never names a country: it may be shown to approvers, and citizenship is sensitive.
    reason = _held(reasons, Hold.EMBARGO)
    if reason is None:
        return CheckResult("embargo", PASS, "No embargoed citizenship or work country on file.")
    if reason.unknown:
        return CheckResult(
            "embargo",
            REVIEW,
            "Citizenship or work country is not on file: export compliance must confirm eligibility.",
        )
    return CheckResult(
        "embargo",
        DENY,
        "A citizenship or work country on file is under an embargo, so access cannot be granted.",
    )


def check_us_person(model: Model, reasons: tuple[Reason, ...]) -> CheckResult:
    """The rule's US_PERSON reason: `us_person=no` denies, unknown goes to export compliance."""
    reason = _held(reasons, Hold.US_PERSON)
    if not model.us_persons_only:
        return CheckResult("us_person", PASS, f"{model.name} is not limited to US persons.")
    if reason is None:
        return CheckResult("us_person", PASS, "US person, as required for this model.")
    if not reason.unknown:
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


def check_directives(
    model: Model,
    reasons: tuple[Reason, ...],
    restrictions: tuple[Restriction, ...],
    licensed: tuple[Licence, ...] = (),
) -> CheckResult:
    """The rule's first DIRECTIVE reason, cited with the directive's reference and title. When none
    holds but a require-licence directive would have, `licensed` are the licences that cover the
    requester: the check passes citing them, so that approvers see what the access depends on."""
    titles = {r.directive_id: r for r in restrictions}
    for reason in reasons:
        if reason.hold == Hold.DIRECTIVE and (first := titles.get(reason.directive_id or 0)):
            return CheckResult(
                "directive",
                DENY,
                f"Directive D{first.directive_id} ({first.reference}: {first.title}) restricts {model.name} "
                "for you, so access cannot be granted while it is in force"
                + (
                    " unless export compliance records an export licence of yours that covers it."
                    if reason.licence
                    else "."
                ),
                directive_id=first.directive_id,
            )
    if licensed:
        cited = ", ".join(licence.cite() for licence in licensed)
        return CheckResult(
            "directive",
            PASS,
            f"A directive in force requires an export licence for {model.name}; "
            f"licence {cited} covers the requester.",
            licences=tuple(licence.licence_id for licence in licensed),
        )
    return CheckResult("directive", PASS, "No directive restricts this model for the requester.")


def application_licences(model: Model, application: Application, user_id: str) -> tuple[Licence, ...]:
    """The licences that let this application past a require-licence directive in force (none
    without a day to judge them on)."""
    if application.on is None:
        return ()
    rules = [r.rule for r in application.restrictions]
    return exempting_licences(application.standing(user_id), model, rules, application.on)


def application_reasons(
    catalog: Catalog,
    model: Model,
    application: Application,
    user_id: str,
    confirmed: frozenset[Hold] = frozenset(),
) -> tuple[Reason, ...]:
    """The entitlement rule for this application's requester and model."""
    return refusal_reasons(
        application.standing(user_id),
        model,
        embargoed=catalog.policy.embargoed_countries,
        directives=[r.rule for r in application.restrictions],
        confirmed=confirmed,
        on=application.on,
    )


def evaluate(catalog: Catalog, application: Application) -> Evaluation:
    """Run every check that applies, in order; stop early only where later checks would be meaningless.
    The facts about the person and the model are judged by the entitlement rule
    (bot/domain/entitlement.py); this adds what only a new request needs (duplicates, duration,
    justification) and says which outcome each of the rule's reasons has for a request."""
    policy = catalog.policy
    results = [check_model(catalog, application.model_slug)]
    model = catalog.model(application.model_slug)
    if results[-1].outcome == REFUSE or model is None:
        return Evaluation(tuple(results), model, None)
    person = application.requester
    reasons = application_reasons(catalog, model, application, person.slack_user_id if person else "")
    results[-1] = check_model_status(model, reasons)
    if results[-1].outcome == REFUSE:
        return Evaluation(tuple(results), model, None)
    results.append(check_directory(reasons, policy.directory_contact))
    if person is None or results[-1].outcome == REFUSE:
        return Evaluation(tuple(results), model, None)
    # A directive in force is the most important thing to tell: it is checked (and cited) before anything
    # the person could fix, and it decides the request on its own.
    user_id = person.slack_user_id
    licensed = application_licences(model, application, user_id)
    results.append(check_directives(model, reasons, application.restrictions, licensed))
    if results[-1].outcome == DENY:
        return Evaluation(tuple(results), model, application.duration or model.default_duration)
    results.append(check_duplicate(model, application.existing, application.extending))
    results.append(check_duration(model, application.duration))
    results.append(
        check_justification(
            application.justification, policy.justification_min_chars, policy.justification_max_chars
        )
    )
    results.append(check_embargo(reasons))
    results.append(check_us_person(model, reasons))
    return Evaluation(tuple(results), model, application.duration or model.default_duration)
