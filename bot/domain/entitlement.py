"""The entitlement rule: whether a person may use a model at a moment, and every reason why not.

This is the one definition. Request policy (bot/domain/policy.py), the re-check before a fully approved
request is granted, and the re-check of every held grant and pending request whenever an input changes
(bot/services/recheck.py) all ask it. bot/store/entitlement.py is its set-based SQL form, for checking
100,000 grants in a few statements; tests/unit/test_entitlement_rule.py proves the two give the same
reasons for every person and model of a generated population.

A reason is either a fact that refuses access (a citizenship under embargo, `us_person=no` on a model
for US persons only) or a fact that is missing (no citizenship on file, US-person status unknown).
Missing facts fail closed, except where export compliance has confirmed eligibility for this very
grant or request (an approval step the request policy adds for exactly that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.catalog import SUSPENDED, Model
from bot.domain.directives import REQUIRE_LICENCE, RESTRICTING, Population
from bot.domain.licences import Licence, covering
from bot.domain.people import Person


class Hold(StrEnum):
    """A reason the rule refuses access, as stored on a held grant and shown in `held_by`."""

    NOT_IN_DIRECTORY = "not_in_directory"
    DEPARTED = "departed"
    DEACTIVATED = "deactivated"
    MODEL_SUSPENDED = "model_suspended"
    DIRECTIVE = "directive"
    EMBARGO = "embargo"
    US_PERSON = "us_person"


# Holds export compliance may confirm when the fact behind them is missing (policy REVIEW checks).
CONFIRMABLE = (Hold.EMBARGO, Hold.US_PERSON)


@dataclass(frozen=True)
class Standing:
    """A person as the rule sees them: their directory entry (None when there is none), whether the
    directory import marked them departed, whether Slack reports their account deactivated, and the
    export licences on record that they hold (whatever their status and dates: the rule judges those)."""

    user_id: str
    person: Person | None
    departed: bool = False
    deactivated: bool = False
    licences: tuple[Licence, ...] = ()


@dataclass(frozen=True)
class DirectiveRule:
    """A directive in force, as far as the rule is concerned."""

    directive_id: int
    models: frozenset[str]
    population: Population
    action: str


# What `held_by` adds to a hold whose fact is missing rather than refusing (Reason.label).
NOT_ON_FILE = ":not_on_file"


@dataclass(frozen=True, order=True)
class Reason:
    """One reason access is refused. `unknown` when the fact behind it is missing rather than refusing;
    `directive_id` for a directive, and `licence` when that directive only requires an export licence
    (one that covers the person would lift it)."""

    hold: Hold
    directive_id: int | None = None
    unknown: bool = False
    licence: bool = False

    @property
    def label(self) -> str:
        """How `held_by` names it: the hold (`embargo`), with `:not_on_file` when the fact behind it is
        missing rather than refusing (`embargo:not_on_file`: the directory must say, nobody is barred
        yet), or `directive:D3` for a directive."""
        if self.hold == Hold.DIRECTIVE:
            return f"directive:D{self.directive_id}"
        return f"{self.hold}{NOT_ON_FILE}" if self.unknown else str(self.hold)


def refusal_reasons(
    standing: Standing,
    model: Model,
    *,
    embargoed: frozenset[str],
    directives: Iterable[DirectiveRule] = (),
    confirmed: frozenset[Hold] = frozenset(),
    on: date | None = None,
) -> tuple[Reason, ...]:
    """Every reason `standing`'s person may not use `model` now; empty when they may.

    - not in the directory, or departed from it (`directory import --full`);
    - their Slack account is deactivated (the `user_change` event, users.info);
    - the model is suspended in models.yaml;
    - a restricting directive in force covers them (Population.covers: unknown facts count as covered),
      unless it only requires a licence and one of theirs covers them for the model on the day `on`
      (bot/domain/licences.py; with no day given, no licence counts);
    - a citizenship or the work country is under embargo (policy.yaml `embargoed_countries`), or either
      is not on file (unknown, unless in `confirmed`);
    - the model is for US persons only (models.yaml `us_persons_only`) and the directory does not say
      `us_person=yes`: `no` refuses, unknown refuses unless in `confirmed`.

    `confirmed`: holds export compliance confirmed for this grant or request while the fact was
    missing; a confirmation never outweighs a fact that refuses."""
    person = standing.person
    licensed = bool(on and covering(standing.licences, standing.user_id, person, model.slug, on))
    reasons: list[Reason] = []
    if person is None:
        reasons.append(Reason(Hold.NOT_IN_DIRECTORY))
    elif standing.departed:
        reasons.append(Reason(Hold.DEPARTED))
    if standing.deactivated:
        reasons.append(Reason(Hold.DEACTIVATED))
    if model.status == SUSPENDED:
        reasons.append(Reason(Hold.MODEL_SUSPENDED))
    reasons += [
        Reason(Hold.DIRECTIVE, directive_id=rule.directive_id, licence=rule.action == REQUIRE_LICENCE)
        for rule in sorted(directives, key=lambda r: r.directive_id)
        if rule.action in RESTRICTING
        and model.slug in rule.models
        and rule.population.covers(standing.user_id, person)
        and not (rule.action == REQUIRE_LICENCE and licensed)
    ]
    if person is None:
        return tuple(reasons)
    if person.citizenships & embargoed or person.work_country in embargoed:
        reasons.append(Reason(Hold.EMBARGO))
    elif (not person.citizenships or not person.work_country) and Hold.EMBARGO not in confirmed:
        reasons.append(Reason(Hold.EMBARGO, unknown=True))
    if model.us_persons_only:
        if person.us_person is False:
            reasons.append(Reason(Hold.US_PERSON))
        elif person.us_person is None and Hold.US_PERSON not in confirmed:
            reasons.append(Reason(Hold.US_PERSON, unknown=True))
    return tuple(reasons)


def exempting_licences(
    standing: Standing, model: Model, directives: Iterable[DirectiveRule], on: date
) -> tuple[Licence, ...]:
    """The licences that keep a require-licence directive in force from refusing `standing`'s person
    `model` on the day `on`: those a grant of it depends on. Empty when no such directive covers them."""
    required = any(
        rule.action == REQUIRE_LICENCE
        and model.slug in rule.models
        and rule.population.covers(standing.user_id, standing.person)
        for rule in directives
    )
    if not required:
        return ()
    return covering(standing.licences, standing.user_id, standing.person, model.slug, on)


def describe(reason: Reason, model_name: str) -> str:
    """The reason in plain words, addressed to the holder, for notices and `/access status`. Never
    names a country: citizenship is sensitive, and a notice may be read over a shoulder."""
    match reason.hold:
        case Hold.NOT_IN_DIRECTORY:
            return "you are not in the AccessBot directory"
        case Hold.DEPARTED:
            return "the directory no longer lists you (departed)"
        case Hold.DEACTIVATED:
            return "Slack reports your account as deactivated"
        case Hold.MODEL_SUSPENDED:
            return f"{model_name} is suspended"
        case Hold.DIRECTIVE if reason.licence:
            return (
                f"directive D{reason.directive_id} requires an export licence for {model_name}, and no "
                "active licence of yours on record covers it (export compliance records licences)"
            )
        case Hold.DIRECTIVE:
            return f"directive D{reason.directive_id} restricts {model_name} for you"
        case Hold.EMBARGO if reason.unknown:
            return "your citizenship or work country is not on file, so export rules cannot be checked"
        case Hold.EMBARGO:
            return "a citizenship or work country on file is under an embargo"
        case Hold.US_PERSON if reason.unknown:
            return f"{model_name} is for US persons only and your US-person status is not on file"
        case Hold.US_PERSON:
            return f"{model_name} is for US persons only and the directory says you are not one"
    raise ValueError(f"unknown hold {reason.hold!r}")
