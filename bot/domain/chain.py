"""The approval chain as a state machine: which steps a request needs, who may approve each, what a
decision does. Pure: callers bring the directory facts and persist the results."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.catalog import Chain, StepRule
from bot.domain.policy import CheckResult
from bot.domain.status import RequestStatus, StepStatus, Verdict

# Short names for the two verdicts, as the chain's callers and tests spell them.
APPROVE = Verdict.APPROVE
DENY = Verdict.DENY


@dataclass(frozen=True)
class PlannedStep:
    """One step a new request will need: the chain's rule, and a note for its approvers."""

    rule: StepRule
    note: str | None = None  # why this step must look closely (e.g. unknown US-person status)


def plan_steps(chain: Chain, reviews: Collection[CheckResult], compliance_role: str) -> list[PlannedStep]:
    """The chain's steps, plus an export-compliance review when a fact is unknown.

    Unknown facts are never approved automatically: if the chain has no compliance step, one is added
    at the end; if it has one, that step carries the note.
    """
    note = " ".join(r.reason for r in reviews) or None
    steps = [PlannedStep(rule) for rule in chain.steps]
    if note is None:
        return steps
    for index, step in enumerate(steps):
        if step.rule.approvers == compliance_role:
            steps[index] = PlannedStep(step.rule, note)
            return steps
    steps.append(PlannedStep(StepRule("Export compliance review", compliance_role, 1), note))
    return steps


@dataclass(frozen=True)
class Assignment:
    """Who may decide a step. `approvers` empty means nobody can: the request must not wait."""

    approvers: tuple[str, ...]
    routed_reason: str | None = None


def missing_reason(
    rule: StepRule, *, candidates: Collection[str], deactivated: Collection[str], manager_on_file: bool
) -> str:
    """Why the people the rule names may fall short, in the words routing gives the approvers.

    `candidates` are the people the rule names (the manager found in the directory, or the role's
    holders), `deactivated` those of them whose Slack account is deactivated, `manager_on_file` whether
    the requester's directory row names a manager at all (read for manager steps only).
    """
    if candidates and set(candidates) <= set(deactivated):
        return "Slack reports that everyone this step would ask has a deactivated account."
    if not rule.is_manager:
        return f"Nobody holds the {rule.approvers} role."
    if manager_on_file and not candidates:
        return "The manager on file is not in the directory."
    return "No manager is on file for the requester."


def assign_approvers(
    rule: StepRule,
    *,
    candidates: Collection[str],
    admins: Collection[str],
    excluded: Collection[str],
    missing_reason: str,
) -> Assignment:
    """Pick the step's approvers; fall back to the admins, saying why, when too few can act.

    `candidates` are the people the rule names (the manager, or the role's holders); `excluded` are
    the requester and anyone who decided an earlier step of the same request (one person never
    approves two steps). `missing_reason` says why the candidates fall short if they do.
    """
    eligible = sorted(set(candidates) - set(excluded))
    if len(eligible) >= rule.quorum:
        return Assignment(tuple(eligible))
    if candidates and not eligible:
        reason = (
            f"{missing_reason} Everyone who could approve this step is the requester or "
            "approved an earlier step, so it goes to the access admins."
        )
    elif eligible:
        reason = (
            f"Only {len(eligible)} of the {rule.quorum} approvers this step needs are available, "
            "so the access admins can approve it too."
        )
    else:
        reason = f"{missing_reason} It goes to the access admins instead."
    fallback = sorted((set(eligible) | set(admins)) - set(excluded))
    if len(fallback) < rule.quorum:
        return Assignment((), reason)
    return Assignment(tuple(fallback), reason)


@dataclass(frozen=True)
class StepTally:
    """A step's quorum and the approvals it has so far."""

    quorum: int
    approvals: int


@dataclass(frozen=True)
class DecisionEffect:
    """What one decision does: to its step, to the request, and which step starts next."""

    step_done: bool
    step_outcome: StepStatus | None  # APPROVED or DENIED when the step is done
    request_outcome: RequestStatus | None  # APPROVED or DENIED when the whole request is decided
    next_position: int | None  # the step to start next, if any


def apply_decision(tally: StepTally, verdict: str, position: int, step_count: int) -> DecisionEffect:
    """What one approver's decision does to the step and the request (tally is before this decision;
    `position` counts from 0). Raises ValueError for a verdict that is neither approve nor deny."""
    if verdict == Verdict.DENY:
        return DecisionEffect(True, StepStatus.DENIED, RequestStatus.DENIED, None)
    if verdict != Verdict.APPROVE:
        raise ValueError(f"unknown verdict {verdict!r}")
    if tally.approvals + 1 < tally.quorum:
        return DecisionEffect(False, None, None, None)
    if position + 1 < step_count:
        return DecisionEffect(True, StepStatus.APPROVED, None, position + 1)
    return DecisionEffect(True, StepStatus.APPROVED, RequestStatus.APPROVED, None)
