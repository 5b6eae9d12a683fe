"""The approval chain as a state machine: which steps a request needs, who may approve each, what a
decision does. Pure: callers bring the directory facts and persist the results."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.catalog import Chain, StepRule
from bot.domain.policy import CheckResult

APPROVE = "approve"
DENY = "deny"


@dataclass(frozen=True)
class PlannedStep:
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
    quorum: int
    approvals: int


@dataclass(frozen=True)
class DecisionEffect:
    step_done: bool
    step_outcome: str | None  # "approved" | "denied" when done
    request_outcome: str | None  # "approved" | "denied" when the whole request is decided
    next_position: int | None  # the step to start next, if any


def apply_decision(tally: StepTally, verdict: str, position: int, step_count: int) -> DecisionEffect:
    """What one approver's decision does to the step and the request (tally is before this decision)."""
    if verdict == DENY:
        return DecisionEffect(True, "denied", "denied", None)
    if verdict != APPROVE:
        raise ValueError(f"unknown verdict {verdict!r}")
    if tally.approvals + 1 < tally.quorum:
        return DecisionEffect(False, None, None, None)
    if position + 1 < step_count:
        return DecisionEffect(True, "approved", None, position + 1)
    return DecisionEffect(True, "approved", "approved", None)
