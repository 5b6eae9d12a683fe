"""Template data for single rows: a request, an approval step, a grant, a model's name."""

from __future__ import annotations

from typing import Any

from bot.domain.catalog import Catalog
from bot.domain.durations import format_duration
from bot.domain.people import is_slack_user_id
from bot.domain.status import Verdict
from bot.store.tables import AccessGrant, AccessRequest, Decision, RequestStep

OUTCOME_MARKS = {"pass": "✅", "review": "⚠️", "deny": "⛔", "refuse": "⛔"}
LICENCE_MARK = "📄"
# Short names for checks that passed: approvers read the exceptions in full and the rest at a glance.
CHECK_LABELS = {
    "model": "model open",
    "directory": "in the directory",
    "duplicate": "no duplicate",
    "duration": "duration within limit",
    "justification": "justification given",
    "embargo": "no embargo",
    "us_person": "US-person rule",
    "directive": "no directive",
}


def model_name(catalog: Catalog, slug: str) -> str:
    """The model's display name; its slug when the catalog no longer has it."""
    model = catalog.model(slug)
    return model.name if model else slug


def request_data(catalog: Catalog, request: AccessRequest) -> dict[str, Any]:
    """A request for templates: label `R<id>`, model name, duration in words, and the policy checks
    split into exceptions (`checks`, with a mark) and short labels of those that passed."""
    return {
        "id": request.id,
        "label": f"R{request.id}",
        "requester": request.requester_id,
        "model": request.model,
        "model_name": model_name(catalog, request.model),
        "duration": format_duration(request.duration_seconds),
        "justification": request.justification,
        "status": request.status,
        "reason": request.outcome_reason,
        # Who ended it: a person (a Slack user ID) or "policy" / "system".
        "decided_by": request.decided_by,
        "decided_by_person": is_slack_user_id(request.decided_by or ""),
        "created_at": request.created_at,
        "decided_at": request.decided_at,
        "expires_at": request.expires_at,
        "step_count": request.step_count,
        "current_step": request.current_step,
        # The grant an extension asks to extend (`G7`); None for a request for a new grant.
        "extends": f"G{request.extends_grant_id}" if request.extends_grant_id else None,
        # Exceptions, and a pass that rests on an export licence (approvers must see what access
        # would depend on).
        "checks": [
            {
                "mark": LICENCE_MARK if r.get("licences") else OUTCOME_MARKS.get(r["outcome"], "•"),
                "reason": r["reason"],
                "outcome": r["outcome"],
            }
            for r in request.policy_results
            if r["outcome"] != "pass" or r.get("licences")
        ],
        "passed_checks": [
            CHECK_LABELS.get(r["check"], r["check"])
            for r in request.policy_results
            if r["outcome"] == "pass" and not r.get("licences")
        ],
    }


def step_data(step: RequestStep, decisions: list[Decision]) -> dict[str, Any]:
    """An approval step for templates (`number` counts from 1), with its approvals and its denial, if
    any, taken from `decisions` (all of the request's; those of other steps are ignored)."""
    mine = [d for d in decisions if d.position == step.position]
    return {
        "position": step.position,
        "number": step.position + 1,
        "name": step.name,
        "approvers": step.approvers,
        "quorum": step.quorum,
        "note": step.note,
        "routed_reason": step.routed_reason,
        "status": step.status,
        "approvals": [
            {"by": d.approver_id, "at": d.decided_at} for d in mine if d.verdict == Verdict.APPROVE
        ],
        "denial": next(
            (
                {"by": d.approver_id, "at": d.decided_at, "reason": d.reason}
                for d in mine
                if d.verdict == Verdict.DENY
            ),
            None,
        ),
    }


def grant_data(catalog: Catalog, grant: AccessGrant) -> dict[str, Any]:
    """A grant for templates: label `G<id>`, holder, model name, status and its dates."""
    return {
        "id": grant.id,
        "label": f"G{grant.id}",
        "holder": grant.user_id,
        "model": grant.model,
        "model_name": model_name(catalog, grant.model),
        "status": grant.status,
        "starts_at": grant.starts_at,
        "expires_at": grant.expires_at,
        "ended_at": grant.ended_at,
        "ended_by": grant.ended_by,
        "end_reason": grant.end_reason,
    }
