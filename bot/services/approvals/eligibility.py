"""The checks a decision runs again at the moment it is made: the directory may have changed since the
step started, and the facts since the request was filed."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.catalog import MANAGER
from bot.domain.delegations import Duty, covers
from bot.domain.licences import utc_day
from bot.domain.people import Person
from bot.domain.policy import DENY as DENY_OUTCOME
from bot.domain.policy import (
    REFUSE,
    REVIEW,
    Application,
    CheckResult,
    application_reasons,
    check_directives,
    check_directory,
    check_embargo,
    check_model_status,
    check_us_person,
)
from bot.services.context import Context, Refusal
from bot.services.restrictions import restrictions_for
from bot.store import accounts, delegations
from bot.store import approvals as tasks
from bot.store import directory as people
from bot.store.entitlement import load_standing
from bot.store.tables import AccessRequest, ApprovalTask, RequestStep


def require_still_qualified(
    ctx: Context,
    session: Session,
    step: RequestStep,
    task: ApprovalTask,
    requester: Person | None,
    label: str,
) -> None:
    """Whoever decides must qualify *now*: still an access admin if asked as one, else still the
    requester's manager or a holder of the step's role; a delegate, while the delegation is in effect and
    covers the step, for an approver who still qualifies; and never someone the step was taken from when
    it went to the access admins. Raises an audited Refusal otherwise."""
    if task.on_behalf_of is not None:
        _require_delegation(ctx, session, step, task, requester, label)
        return
    if task.withdrawn_at is not None:
        # Taken from them when the step went to the access admins (bot/services/approvals/stranded.py).
        raise Refusal(
            f"You cannot decide {label}: the step went to the access admins. Nothing was changed.",
            audited=True,
        )
    approver = task.approver_id
    if task.via_admin:
        # Asked as an access admin, or as a holder of the role an unanswered step escalates to.
        roles = [ctx.catalog.policy.admin_role]
        if step.escalated_at is not None:
            roles.append(ctx.catalog.escalation_role())
        ok = any(people.has_role(session, approver, role) for role in roles)
        why = f"you no longer hold the {' or '.join(dict.fromkeys(roles))} role"
    elif step.approvers == MANAGER:
        manager = people.person_by_email(session, (requester.manager_email if requester else None) or "")
        ok = manager is not None and manager.slack_user_id == approver
        why = "you are no longer the requester's manager in the directory"
    else:
        ok = people.has_role(session, approver, step.approvers)
        why = f"you no longer hold the {step.approvers} role"
    if not ok:
        raise Refusal(f"You cannot decide {label}: {why}. Nothing was changed.", audited=True)


def grant_blocker(
    ctx: Context, session: Session, request: AccessRequest, requester: Person | None
) -> CheckResult | None:
    """Why a fully approved request may not be granted after all, or None when it may.

    The facts may have changed while the request waited (a directive, a directory import, the model's
    status): they are checked again before granting. A fact that became unknown fails closed too,
    unless an export-compliance step already reviewed exactly that."""
    model = ctx.catalog.model(request.model)
    standing = load_standing(session, request.requester_id)
    if requester is None or model is None or standing.person is None or standing.departed:
        return CheckResult("directory", DENY_OUTCOME, "The requester is no longer in the directory.")
    reviewed = {r["check"] for r in request.policy_results if r["outcome"] == REVIEW}
    restrictions = restrictions_for(session, model, ctx.clock())
    application = Application(
        model_slug=model.slug,
        requester=standing.person,
        duration=None,
        justification="",
        restrictions=restrictions,
        departed=standing.departed,
        deactivated=standing.deactivated,
        licences=standing.licences,
        on=utc_day(ctx.clock()),
    )
    reasons = application_reasons(ctx.catalog, model, application, request.requester_id)
    for result in (
        check_model_status(model, reasons),
        check_directory(reasons, ctx.catalog.policy.directory_contact),
        check_directives(model, reasons, restrictions),
        check_embargo(reasons),
        check_us_person(model, reasons),
    ):
        if result.outcome in (DENY_OUTCOME, REFUSE):
            return result
        if result.outcome == REVIEW and result.check not in reviewed:
            return CheckResult(
                result.check,
                DENY_OUTCOME,
                f"The directory changed while the request waited. {result.reason} Please ask again.",
            )
    return None


def _require_delegation(
    ctx: Context,
    session: Session,
    step: RequestStep,
    task: ApprovalTask,
    requester: Person | None,
    label: str,
) -> None:
    delegator = task.on_behalf_of or ""
    ended = Refusal(
        f"You cannot decide {label}: the delegation from {people.name_of(session, delegator)} has ended. "
        "Nothing was changed.",
        audited=True,
    )
    if task.withdrawn_at is not None:
        raise ended
    duty = Duty(step.approvers, task.via_admin)
    policy = ctx.catalog.policy
    # Locked: a revocation committing meanwhile waits for this decision, or this decision for it.
    found = delegations.active_from(session, [delegator], ctx.clock(), lock=True).get(delegator, [])
    if not any(d.delegate_id == task.approver_id and covers(d.role, duty, policy.admin_role) for d in found):
        raise ended
    # The delegate must still be someone who may approve at all: in the directory, reachable.
    if not people.present_ids_of(session, [task.approver_id]) or accounts.deactivated(
        session, [task.approver_id]
    ):
        raise Refusal(
            f"You cannot decide {label}: you are no longer in the directory, or your account is "
            "deactivated. Nothing was changed.",
            audited=True,
        )
    own = tasks.task_for(session, step.request_id, step.position, delegator)
    if own is None:
        raise Refusal(
            f"You cannot decide {label}: {delegator} is not asked. Nothing was changed.", audited=True
        )
    require_still_qualified(ctx, session, step, own, requester, label)
