"""The approval chain: which steps a request needs, who may approve each, and what a decision does."""

from __future__ import annotations

import pytest

from bot.domain.catalog import Chain, StepRule
from bot.domain.chain import (
    APPROVE,
    DENY,
    Assignment,
    DecisionEffect,
    PlannedStep,
    StepTally,
    apply_decision,
    assign_approvers,
    plan_steps,
)
from bot.domain.policy import REVIEW, CheckResult

COMPLIANCE = "export-compliance"
MANAGER_STEP = StepRule("Manager", "manager")
OWNER_STEP = StepRule("Model owner", "model-owner")
COMPLIANCE_STEP = StepRule("Export compliance", COMPLIANCE)
STANDARD = Chain("standard", (MANAGER_STEP,))
FRONTIER = Chain("frontier", (MANAGER_STEP, OWNER_STEP, COMPLIANCE_STEP))

UNKNOWN_CITIZENSHIP = CheckResult("embargo", REVIEW, "Citizenship is not on file.")
UNKNOWN_US_PERSON = CheckResult("us_person", REVIEW, "US-person status is unknown.")
NO_MANAGER = "Alice has no manager in the directory."


# --- plan_steps ----------------------------------------------------------------------------------


def test_without_reviews_the_plan_is_the_chain() -> None:
    assert plan_steps(FRONTIER, [], COMPLIANCE) == [
        PlannedStep(MANAGER_STEP),
        PlannedStep(OWNER_STEP),
        PlannedStep(COMPLIANCE_STEP),
    ]


def test_review_adds_an_export_compliance_step_when_the_chain_has_none() -> None:
    steps = plan_steps(STANDARD, [UNKNOWN_CITIZENSHIP], COMPLIANCE)
    assert steps == [
        PlannedStep(MANAGER_STEP),
        PlannedStep(StepRule("Export compliance review", COMPLIANCE, 1), "Citizenship is not on file."),
    ]


def test_review_notes_go_on_the_chains_own_compliance_step() -> None:
    steps = plan_steps(FRONTIER, [UNKNOWN_CITIZENSHIP, UNKNOWN_US_PERSON], COMPLIANCE)
    assert [s.rule for s in steps] == [MANAGER_STEP, OWNER_STEP, COMPLIANCE_STEP]
    assert [s.note for s in steps] == [
        None,
        None,
        "Citizenship is not on file. US-person status is unknown.",
    ]


def test_compliance_role_comes_from_the_caller() -> None:
    steps = plan_steps(FRONTIER, [UNKNOWN_US_PERSON], "legal")
    assert len(steps) == 4
    assert steps[-1].rule.approvers == "legal"
    assert steps[2].note is None


def test_plan_steps_does_not_change_the_chain() -> None:
    plan_steps(STANDARD, [UNKNOWN_CITIZENSHIP], COMPLIANCE)
    assert STANDARD.steps == (MANAGER_STEP,)


def test_step_rule_describes_who_approves() -> None:
    assert MANAGER_STEP.describe() == "the requester's manager"
    assert OWNER_STEP.describe() == "model-owner"
    assert StepRule("Owners", "model-owner", 2).describe() == "2 of model-owner"


# --- assign_approvers ----------------------------------------------------------------------------


def test_candidates_approve_when_enough_are_eligible() -> None:
    assignment = assign_approvers(
        OWNER_STEP, candidates=["U0OWEN", "U0OLGA"], admins=["U0ADMIN"], excluded=[], missing_reason="x"
    )
    assert assignment == Assignment(("U0OLGA", "U0OWEN"))


def test_requester_and_earlier_deciders_are_excluded() -> None:
    assignment = assign_approvers(
        OWNER_STEP,
        candidates=["U0ALICE", "U0MARIA", "U0OWEN"],
        admins=["U0ADMIN"],
        excluded=["U0ALICE", "U0MARIA"],
        missing_reason="x",
    )
    assert assignment.approvers == ("U0OWEN",)
    assert assignment.routed_reason is None


def test_no_manager_falls_back_to_the_admins_with_the_reason() -> None:
    assignment = assign_approvers(
        MANAGER_STEP,
        candidates=[],
        admins=["U0ADMIN", "U0DANA"],
        excluded=["U0ALICE"],
        missing_reason=NO_MANAGER,
    )
    assert assignment.approvers == ("U0ADMIN", "U0DANA")
    assert assignment.routed_reason == f"{NO_MANAGER} It goes to the access admins instead."


def test_nobody_holding_the_role_falls_back_to_the_admins() -> None:
    missing = "Nobody in the directory has the model-owner role."
    assignment = assign_approvers(
        OWNER_STEP, candidates=(), admins={"U0ADMIN"}, excluded=(), missing_reason=missing
    )
    assert assignment.approvers == ("U0ADMIN",)
    assert assignment.routed_reason == f"{missing} It goes to the access admins instead."


def test_everyone_excluded_falls_back_to_the_admins_and_says_so() -> None:
    assignment = assign_approvers(
        OWNER_STEP,
        candidates=["U0OWEN"],
        admins=["U0ADMIN"],
        excluded=["U0OWEN"],
        missing_reason="Owen is the only model owner.",
    )
    assert assignment.approvers == ("U0ADMIN",)
    assert assignment.routed_reason == (
        "Owen is the only model owner. Everyone who could approve this step is the requester or "
        "approved an earlier step, so it goes to the access admins."
    )


def test_admins_who_are_excluded_are_not_offered_the_step() -> None:
    assignment = assign_approvers(
        MANAGER_STEP,
        candidates=[],
        admins=["U0ADMIN", "U0ALICE"],
        excluded=["U0ALICE"],
        missing_reason=NO_MANAGER,
    )
    assert assignment.approvers == ("U0ADMIN",)


def test_short_quorum_adds_the_admins_to_the_eligible_candidates() -> None:
    rule = StepRule("Owners", "model-owner", 3)
    assignment = assign_approvers(
        rule,
        candidates=["U0OWEN", "U0OLGA", "U0ALICE"],
        admins=["U0ADMIN"],
        excluded=["U0ALICE"],
        missing_reason="x",
    )
    assert assignment.approvers == ("U0ADMIN", "U0OLGA", "U0OWEN")
    assert assignment.routed_reason == (
        "Only 2 of the 3 approvers this step needs are available, so the access admins can approve it too."
    )


def test_nobody_can_approve_when_even_the_admins_cannot_make_quorum() -> None:
    rule = StepRule("Owners", "model-owner", 3)
    assignment = assign_approvers(
        rule, candidates=["U0OWEN"], admins=["U0ADMIN"], excluded=[], missing_reason="x"
    )
    assert assignment.approvers == ()
    assert assignment.routed_reason is not None
    assert assignment.routed_reason.startswith("Only 1 of the 3 approvers")


def test_nobody_can_approve_when_there_are_no_admins() -> None:
    assignment = assign_approvers(
        MANAGER_STEP, candidates=[], admins=[], excluded=["U0ALICE"], missing_reason=NO_MANAGER
    )
    assert assignment == Assignment((), f"{NO_MANAGER} It goes to the access admins instead.")


def test_an_admin_counts_once_when_also_a_candidate() -> None:
    rule = StepRule("Owners", "model-owner", 3)
    assignment = assign_approvers(
        rule, candidates=["U0ADMIN", "U0OWEN"], admins=["U0ADMIN"], excluded=[], missing_reason="x"
    )
    assert assignment.approvers == ()


# --- apply_decision ------------------------------------------------------------------------------


@pytest.mark.parametrize(("approvals", "position"), [(0, 0), (1, 1), (0, 2)])
def test_deny_ends_the_step_and_the_request(approvals: int, position: int) -> None:
    effect = apply_decision(StepTally(quorum=2, approvals=approvals), DENY, position, 3)
    assert effect == DecisionEffect(True, "denied", "denied", None)


def test_approval_short_of_quorum_leaves_the_step_open() -> None:
    effect = apply_decision(StepTally(quorum=2, approvals=0), APPROVE, 0, 3)
    assert effect == DecisionEffect(False, None, None, None)


def test_approval_reaching_quorum_advances_to_the_next_step() -> None:
    effect = apply_decision(StepTally(quorum=2, approvals=1), APPROVE, 0, 3)
    assert effect == DecisionEffect(True, "approved", None, 1)


def test_approval_of_a_middle_step_advances() -> None:
    assert apply_decision(StepTally(1, 0), APPROVE, 1, 3).next_position == 2


def test_approval_of_the_last_step_approves_the_request() -> None:
    effect = apply_decision(StepTally(quorum=1, approvals=0), APPROVE, 2, 3)
    assert effect == DecisionEffect(True, "approved", "approved", None)


def test_single_step_chain_is_approved_by_one_approval() -> None:
    assert apply_decision(StepTally(1, 0), APPROVE, 0, 1).request_outcome == "approved"


@pytest.mark.parametrize("verdict", ["approved", "APPROVE", "", "maybe"])
def test_unknown_verdict_is_an_error(verdict: str) -> None:
    with pytest.raises(ValueError, match="unknown verdict"):
        apply_decision(StepTally(1, 0), verdict, 0, 1)
