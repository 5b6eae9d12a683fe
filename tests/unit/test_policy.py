"""Policy checks for a new access request: what is refused, denied, sent for review or passed, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.catalog import SUSPENDED, Catalog, Chain, Model, Policy, StepRule
from bot.domain.directives import EVERYONE, Population
from bot.domain.entitlement import Reason, Standing, refusal_reasons
from bot.domain.people import Person
from bot.domain.policy import (
    DENY,
    PASS,
    REFUSE,
    REVIEW,
    Application,
    CheckResult,
    Existing,
    Restriction,
    check_directives,
    check_directory,
    check_duplicate,
    check_duration,
    check_embargo,
    check_justification,
    check_model,
    check_model_status,
    check_us_person,
    evaluate,
)

EMBARGOED = frozenset({"CU", "IR", "KP", "SY"})
WHY = "Evaluating the model for the export-compliance tooling project."

MYTHOS = Model(
    slug="mythos-5",
    name="Mythos 5",
    provider="Mythic Labs",
    status="available",
    default_duration=timedelta(days=7),
    max_duration=timedelta(days=30),
    chain="frontier",
    us_persons_only=True,
)
LUMEN = Model(
    slug="lumen-3",
    name="Lumen 3",
    provider="Lumen Systems",
    status="available",
    default_duration=timedelta(days=30),
    max_duration=timedelta(days=90),
    chain="standard",
)
OLD = replace(LUMEN, slug="old-1", name="Old 1", status=SUSPENDED)

CATALOG = Catalog(
    models={m.slug: m for m in (MYTHOS, LUMEN, OLD)},
    chains={
        "frontier": Chain("frontier", (StepRule("Manager", "manager"), StepRule("Owner", "model-owner"))),
        "standard": Chain("standard", (StepRule("Manager", "manager"),)),
    },
    policy=Policy(embargoed_countries=EMBARGOED, directory_contact="#ai-access-help"),
)

ALICE = Person(
    slack_user_id="U0ALICE01",
    email="alice@example.com",
    name="Alice Chen",
    manager_email="maria@example.com",
    work_country="US",
    citizenships=frozenset({"US"}),
    us_person=True,
)
DIRECTIVE = Restriction(
    directive_id=4,
    reference="EXP-2025-01",
    title="Frontier model export rule",
    action="suspend",
    models=frozenset({"mythos-5"}),
    population=Population(EVERYONE),
)


def reasons(someone: Person | None, model: Model = MYTHOS, **standing: bool) -> tuple[Reason, ...]:
    """The entitlement rule's reasons, as the request policy gets them."""
    user_id = someone.slack_user_id if someone else "U0NOBODY1"
    return refusal_reasons(
        Standing(user_id, someone, **standing), model, embargoed=EMBARGOED, directives=[DIRECTIVE.rule]
    )


def person(**changes: object) -> Person:
    return replace(ALICE, **changes)  # type: ignore[arg-type]


def application(**changes: object) -> Application:
    base = Application(model_slug="mythos-5", requester=ALICE, duration=None, justification=WHY)
    return replace(base, **changes)  # type: ignore[arg-type]


# --- check_model ---------------------------------------------------------------------------------


def test_unknown_model_is_refused_and_the_models_are_listed() -> None:
    result = check_model(CATALOG, "mythos-6")
    assert result.outcome == REFUSE
    assert result.reason == "There is no model called 'mythos-6'. Models: lumen-3, mythos-5, old-1."


def test_unknown_model_in_an_empty_catalog() -> None:
    assert check_model(Catalog(), "x").reason == "There is no model called 'x'. Models: none yet."


def test_model_slug_is_matched_whatever_the_case_and_spacing() -> None:
    assert check_model(CATALOG, " Mythos-5 ").outcome == PASS


def test_model_suspended_in_the_catalog_is_refused() -> None:
    result = check_model_status(OLD, reasons(ALICE, OLD))
    assert result.outcome == REFUSE
    assert result.reason == "Old 1 is suspended: no new access is being granted."


def test_available_model_passes() -> None:
    assert check_model(CATALOG, "lumen-3") == CheckResult("model", PASS, "Lumen 3 is open for requests.")


# --- check_directory ------------------------------------------------------------------------------


def test_requester_not_in_directory_is_refused_and_told_whom_to_ask() -> None:
    result = check_directory(reasons(None), "#ai-access-help")
    assert result.outcome == REFUSE
    assert "not in the AccessBot directory" in result.reason
    assert "Ask #ai-access-help to add you" in result.reason


def test_requester_in_directory_passes() -> None:
    assert check_directory(reasons(ALICE), "#ai-access-help").outcome == PASS


def test_a_departed_requester_is_refused_and_told_the_directory_says_they_left() -> None:
    result = check_directory(reasons(ALICE, departed=True), "#ai-access-help")
    assert result.outcome == REFUSE
    assert "records you as having left" in result.reason and "#ai-access-help" in result.reason
    assert "not in the AccessBot directory yet" not in result.reason


def test_a_deactivated_account_is_denied() -> None:
    result = check_directory(reasons(ALICE, deactivated=True), "#ai-access-help")
    assert result.outcome == DENY
    assert "deactivated" in result.reason


# --- check_duplicate -----------------------------------------------------------------------------


def test_active_grant_is_a_duplicate() -> None:
    result = check_duplicate(MYTHOS, Existing(grant_id=7, grant_status="active"))
    assert result.outcome == REFUSE
    assert result.reason == "You already hold an active grant G7 for Mythos 5."


def test_suspended_grant_is_a_duplicate() -> None:
    result = check_duplicate(MYTHOS, Existing(grant_id=7, grant_status="suspended"))
    assert result.reason == "You already hold a suspended grant G7 for Mythos 5."


def test_pending_request_is_a_duplicate_and_says_how_to_cancel() -> None:
    result = check_duplicate(MYTHOS, Existing(request_id=12))
    assert result.outcome == REFUSE
    assert "pending request R12 for Mythos 5" in result.reason
    assert "`/access cancel R12`" in result.reason


def test_nothing_existing_passes() -> None:
    assert check_duplicate(MYTHOS, Existing()).outcome == PASS


# --- check_duration ------------------------------------------------------------------------------


def test_duration_over_the_maximum_is_refused_in_words() -> None:
    result = check_duration(MYTHOS, timedelta(days=31))
    assert result.outcome == REFUSE
    assert result.reason == "Mythos 5 can be granted for at most 30 days; you asked for 31 days."


def test_duration_at_the_maximum_passes() -> None:
    assert check_duration(MYTHOS, timedelta(days=30)).outcome == PASS


def test_no_duration_means_the_default() -> None:
    result = check_duration(MYTHOS, None)
    assert result.outcome == PASS
    assert result.reason == "7 days is within the Mythos 5 maximum."


def test_a_default_over_the_maximum_is_still_refused() -> None:
    odd = replace(MYTHOS, default_duration=timedelta(days=60))
    assert check_duration(odd, None).outcome == REFUSE


# --- check_justification -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_missing_justification_is_refused(text: str) -> None:
    result = check_justification(text, 20, 3000)
    assert result.outcome == REFUSE
    assert result.reason == "Please say why you need access (a justification)."


def test_short_justification_is_refused_with_its_length() -> None:
    result = check_justification("  need it  ", 20, 3000)
    assert result.outcome == REFUSE
    assert result.reason == (
        "Your justification is too short (7 characters); "
        "approvers need at least 20 characters of explanation."
    )


def test_justification_of_exactly_the_minimum_passes() -> None:
    assert check_justification("x" * 20, 20, 3000).outcome == PASS


def test_justification_of_exactly_3000_characters_passes() -> None:
    assert check_justification("x" * 3000, 20, 3000).outcome == PASS


def test_justification_over_3000_characters_is_refused() -> None:
    result = check_justification("x" * 3001, 20, 3000)
    assert result.outcome == REFUSE
    assert result.reason == "Your justification is too long (3,001 characters); the limit is 3,000."


def test_surrounding_whitespace_does_not_count_towards_the_limit() -> None:
    assert check_justification("  " + "x" * 3000 + "\n\n", 20, 3000).outcome == PASS


# --- check_embargo -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "someone",
    [
        person(citizenships=frozenset({"US", "IR"})),
        person(citizenships=frozenset({"KP"})),
        person(work_country="CU"),
        person(work_country="SY", citizenships=frozenset()),
    ],
)
def test_embargoed_citizenship_or_work_country_is_denied(someone: Person) -> None:
    result = check_embargo(reasons(someone))
    assert result.outcome == DENY
    assert result.reason == (
        "A citizenship or work country on file is under an embargo, so access cannot be granted."
    )


@pytest.mark.parametrize("code", sorted(EMBARGOED))
def test_embargo_reason_never_names_the_country(code: str) -> None:
    names = {"CU": "Cuba", "IR": "Iran", "KP": "Korea", "SY": "Syria"}
    for someone in (person(citizenships=frozenset({code})), person(work_country=code)):
        reason = check_embargo(reasons(someone)).reason
        assert code not in reason
        assert names[code] not in reason


def test_missing_citizenship_goes_to_review() -> None:
    result = check_embargo(reasons(person(citizenships=frozenset())))
    assert result.outcome == REVIEW
    assert "export compliance must confirm" in result.reason


def test_missing_work_country_goes_to_review() -> None:
    assert check_embargo(reasons(person(work_country=None))).outcome == REVIEW


def test_known_and_not_embargoed_passes() -> None:
    assert (
        check_embargo(reasons(person(citizenships=frozenset({"US", "IE"}), work_country="IE"))).outcome
        == PASS
    )


def test_nothing_is_embargoed_when_the_list_is_empty() -> None:
    someone = person(citizenships=frozenset({"IR"}))
    unrestricted = refusal_reasons(Standing(someone.slack_user_id, someone), LUMEN, embargoed=frozenset())
    assert check_embargo(unrestricted).outcome == PASS


# --- check_us_person -----------------------------------------------------------------------------


def test_us_persons_only_model_denies_a_non_us_person() -> None:
    result = check_us_person(MYTHOS, reasons(person(us_person=False)))
    assert result.outcome == DENY
    assert result.reason == "Mythos 5 is limited to US persons, and the directory says you are not one."


def test_us_persons_only_model_sends_unknown_status_to_review() -> None:
    result = check_us_person(MYTHOS, reasons(person(us_person=None)))
    assert result.outcome == REVIEW
    assert "US-person status is unknown" in result.reason


def test_us_persons_only_model_passes_a_us_person() -> None:
    assert check_us_person(MYTHOS, reasons(person(us_person=True))).outcome == PASS


@pytest.mark.parametrize("status", [True, False, None])
def test_ordinary_model_ignores_us_person_status(status: bool | None) -> None:
    assert check_us_person(LUMEN, reasons(person(us_person=status), LUMEN)).outcome == PASS


# --- check_directives ----------------------------------------------------------------------------


def test_directive_restriction_is_denied_with_its_id() -> None:
    other = replace(DIRECTIVE, directive_id=9, reference="EXP-2", title="Second")
    both = refusal_reasons(
        Standing(ALICE.slack_user_id, ALICE),
        MYTHOS,
        embargoed=EMBARGOED,
        directives=[other.rule, DIRECTIVE.rule],
    )
    result = check_directives(MYTHOS, both, (DIRECTIVE, other))
    assert result.outcome == DENY
    assert result.directive_id == 4
    assert result.reason.startswith(
        "Directive D4 (EXP-2025-01: Frontier model export rule) restricts Mythos 5"
    )
    assert result.as_dict() == {
        "check": "directive",
        "outcome": DENY,
        "reason": result.reason,
        "directive_id": 4,
    }


def test_no_directive_passes_without_an_id() -> None:
    result = check_directives(MYTHOS, (), ())
    assert result.outcome == PASS
    assert result.directive_id is None
    assert "directive_id" not in result.as_dict()


# --- evaluate ------------------------------------------------------------------------------------


def checks(results: tuple[CheckResult, ...]) -> list[tuple[str, str]]:
    return [(r.check, r.outcome) for r in results]


def test_a_good_application_passes_every_check_in_order() -> None:
    evaluation = evaluate(CATALOG, application(duration=timedelta(days=14)))
    assert checks(evaluation.results) == [
        ("model", PASS),
        ("directory", PASS),
        ("directive", PASS),
        ("duplicate", PASS),
        ("duration", PASS),
        ("justification", PASS),
        ("embargo", PASS),
        ("us_person", PASS),
    ]
    assert evaluation.refusal is None
    assert evaluation.denial is None
    assert evaluation.reviews == ()
    assert evaluation.model == MYTHOS
    assert evaluation.duration == timedelta(days=14)


def test_evaluation_uses_the_default_duration_when_none_is_given() -> None:
    assert evaluate(CATALOG, application(model_slug="lumen-3")).duration == timedelta(days=30)


def test_unknown_model_stops_at_the_first_check() -> None:
    evaluation = evaluate(CATALOG, application(model_slug="nope", requester=None))
    assert checks(evaluation.results) == [("model", REFUSE)]
    assert evaluation.refusal is not None
    assert evaluation.refusal.check == "model"
    assert evaluation.model is None
    assert evaluation.duration is None


def test_suspended_model_stops_at_the_first_check() -> None:
    evaluation = evaluate(CATALOG, application(model_slug="old-1"))
    assert checks(evaluation.results) == [("model", REFUSE)]
    assert evaluation.model is not None and evaluation.model.slug == "old-1"


def test_requester_not_in_directory_stops_before_the_person_checks() -> None:
    evaluation = evaluate(CATALOG, application(requester=None))
    assert checks(evaluation.results) == [("model", PASS), ("directory", REFUSE)]
    assert evaluation.refusal is not None
    assert "Ask #ai-access-help" in evaluation.refusal.reason


def test_every_problem_is_reported_and_the_first_refusal_wins() -> None:
    evaluation = evaluate(
        CATALOG,
        application(
            existing=Existing(request_id=3),
            duration=timedelta(days=60),
            justification="because",
            requester=person(us_person=False, citizenships=frozenset({"IR"})),
        ),
    )
    assert checks(evaluation.results) == [
        ("model", PASS),
        ("directory", PASS),
        ("directive", PASS),
        ("duplicate", REFUSE),
        ("duration", REFUSE),
        ("justification", REFUSE),
        ("embargo", DENY),
        ("us_person", DENY),
    ]
    assert evaluation.refusal is not None
    assert evaluation.refusal.check == "duplicate"
    assert evaluation.denial is not None
    assert evaluation.denial.check == "embargo"


def test_a_directive_decides_before_anything_the_person_could_fix() -> None:
    # Even someone holding a (suspended) grant, asking badly, is told about the directive.
    evaluation = evaluate(
        CATALOG,
        application(
            existing=Existing(grant_id=4, grant_status="suspended"),
            justification="x",
            restrictions=(DIRECTIVE,),
        ),
    )
    assert checks(evaluation.results) == [("model", PASS), ("directory", PASS), ("directive", DENY)]
    assert evaluation.refusal is None
    assert evaluation.denial is not None and evaluation.denial.directive_id == 4


def test_denial_by_directive_carries_the_directive_id() -> None:
    evaluation = evaluate(CATALOG, application(restrictions=(DIRECTIVE,)))
    assert evaluation.refusal is None
    assert evaluation.denial is not None
    assert evaluation.denial.directive_id == 4


def test_unknown_facts_are_collected_as_reviews() -> None:
    evaluation = evaluate(CATALOG, application(requester=person(us_person=None, work_country=None)))
    assert evaluation.refusal is None
    assert evaluation.denial is None
    assert [r.check for r in evaluation.reviews] == ["embargo", "us_person"]


def test_justification_limits_come_from_the_policy() -> None:
    strict = replace(CATALOG, policy=replace(CATALOG.policy, justification_min_chars=100))
    evaluation = evaluate(strict, application())
    assert evaluation.refusal is not None
    assert evaluation.refusal.check == "justification"
    assert "at least 100 characters" in evaluation.refusal.reason
