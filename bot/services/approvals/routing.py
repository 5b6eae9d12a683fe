"""Routing a step: who is asked to decide it (the manager, the role's holders, the access admins when
too few of them can act) and the DMs that ask them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session

from bot.domain.catalog import StepRule
from bot.domain.chain import assign_approvers, missing_reason
from bot.domain.delegations import Duty, covers
from bot.domain.people import Person
from bot.domain.reminders import next_follow_up
from bot.domain.status import RequestStatus, StepStatus
from bot.notify import outbox
from bot.present.approvals import approval_message
from bot.services.approvals.finishing import finish_request
from bot.services.context import Context
from bot.store import accounts, audit, delegations
from bot.store import approvals as tasks
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.tables import AccessRequest, ApprovalTask, RequestStep


def start_step(
    ctx: Context, session: Session, request: AccessRequest, position: int, requester: Person
) -> bool:
    """Make the step at `position` (from 0) the current step and ask its approvers, within the caller's
    transaction. False when nobody can approve it: the request is then denied with the reason (a request
    never waits on nobody)."""
    now = ctx.clock()
    step = queries.step_at(session, request.id or 0, position)
    assert step is not None, "steps are created with the request"
    step.status = StepStatus.PENDING
    step.started_at = now
    # When it first owes a reminder or its escalation (bot/services/approvals/reminders.py).
    timings = ctx.catalog.reminders_for(ctx.catalog.model(request.model))
    step.next_follow_up_at = next_follow_up(now, timings, 0, escalated=False)
    request.current_step = position
    request.updated_at = now
    rule = StepRule(step.name, step.approvers, step.quorum)
    policy = ctx.catalog.policy
    if rule.is_manager:
        manager = people.person_by_email(session, requester.manager_email or "")
        candidates = [manager.slack_user_id] if manager else []
    else:
        candidates = people.holders_of_role(session, rule.approvers)
    admins = people.holders_of_role(session, policy.admin_role)
    # Slack accepts DMs to deactivated accounts, so nobody would notice a step waiting on one.
    gone = accounts.deactivated(session, {*candidates, *admins})
    missing = missing_reason(
        rule, candidates=candidates, deactivated=gone, manager_on_file=bool(requester.manager_email)
    )
    candidates = [c for c in candidates if c not in gone]
    admins = [a for a in admins if a not in gone]
    # Nobody whose authority decided an earlier step: not who decided, nor whom a delegate decided for.
    earlier = tasks.decided_for(session, request.id or 0)
    assignment = assign_approvers(
        rule,
        candidates=candidates,
        admins=admins,
        excluded={request.requester_id, *earlier},
        missing_reason=missing,
    )
    step.routed_reason = assignment.routed_reason
    session.add(step)
    if not assignment.approvers:
        reason = (
            f"Nobody can approve step {position + 1} ({step.name}): {assignment.routed_reason} "
            f"and no access admin is available. Ask {policy.contact} to fix the directory, then ask again."
        )
        step.status = StepStatus.CANCELLED
        finish_request(ctx, session, request, RequestStatus.DENIED, reason=reason, actor=audit.SYSTEM)
        return False
    via_admin = set(assignment.approvers) - set(candidates)
    ask(ctx, session, request, step, assignment.approvers, via_admin)
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="step.started",
        subject_type="request",
        subject_id=request.id or 0,
        after={"step": position + 1, "name": step.name, "approvers": list(assignment.approvers)},
        detail={"routed_reason": assignment.routed_reason} if assignment.routed_reason else None,
    )
    return True


def ask(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    step: RequestStep,
    approvers: Sequence[str],
    via_admin: Collection[str],
) -> None:
    """Record who is asked to decide the step and DM each of them the request with its buttons;
    `via_admin` are those asked as access admins."""
    asked = tasks.add_tasks(session, step, approvers, via_admin)
    _post_tasks(ctx, session, request, step, asked)
    ask_delegates(ctx, session, request, step, asked)


def ask_delegates(
    ctx: Context, session: Session, request: AccessRequest, step: RequestStep, asked: Sequence[ApprovalTask]
) -> list[ApprovalTask]:
    """Ask the delegates of the approvers `asked` (in their own right) to decide the step on their
    behalf too, when the step is delegable and a delegation in effect covers it. A delegate qualifies
    like any approver: never the requester, never asked twice at a step or after deciding an earlier
    one, in the directory and reachable. Returns the delegates' tasks."""
    if not step.delegable:
        return []
    now = ctx.clock()
    policy = ctx.catalog.policy
    own = [t for t in asked if t.on_behalf_of is None]
    found = delegations.active_from(session, [t.approver_id for t in own], now)
    if not found:
        return []
    at_step = queries.tasks_at(session, request.id or 0, step.position)
    withdrawn = {t.approver_id: t for t in at_step if t.withdrawn_at is not None}
    used = tasks.decided_for(session, request.id or 0)
    taken = {t.approver_id for t in at_step if t.withdrawn_at is None} | used | {request.requester_id}
    own = [t for t in own if t.approver_id not in used]
    wanted: dict[str, str] = {}  # delegate -> the approver they stand in for
    for task in own:
        duty = Duty(step.approvers, task.via_admin)
        for delegation in found.get(task.approver_id, []):
            delegate = delegation.delegate_id
            if (
                covers(delegation.role, duty, policy.admin_role)
                and delegate not in taken
                and delegate not in wanted
            ):
                wanted[delegate] = task.approver_id
    present = set(people.present_ids_of(session, wanted)) - accounts.deactivated(session, list(wanted))
    chosen = [d for d in wanted if d in present]
    if not chosen:
        return []
    behalf = {d: wanted[d] for d in chosen}
    via = [d for d in chosen if next(t for t in own if t.approver_id == behalf[d]).via_admin]
    # A delegate withdrawn from this step earlier (a delegation that ended) is asked again, in the same
    # task and message; the others get new ones.
    again = [withdrawn[d] for d in chosen if d in withdrawn]
    for task in again:
        task.withdrawn_at, task.on_behalf_of, task.via_admin = (
            None,
            behalf[task.approver_id],
            task.approver_id in via,
        )
        session.add(task)
    decisions = queries.decisions_of(session, request.id or 0)
    for task in again:
        post = tasks.task_posts(session, [task]).get(task.outbox_id or 0)
        if post is not None:
            outbox.update(session, post, approval_message(ctx, request, step, decisions, task))
    fresh = [d for d in chosen if d not in withdrawn]
    added = tasks.add_tasks(session, step, fresh, via, behalf) if fresh else []
    _post_tasks(ctx, session, request, step, added)
    audit.record(
        session, actor=audit.SYSTEM, action="step.delegated", subject_type="request",
        subject_id=request.id or 0, after={"step": step.position + 1, "delegates": behalf},
    )  # fmt: skip
    return [*again, *added]


def _post_tasks(
    ctx: Context, session: Session, request: AccessRequest, step: RequestStep, asked: Sequence[ApprovalTask]
) -> None:
    """DM each task's approver the request with its buttons, and refresh their App Home."""
    decisions = queries.decisions_of(session, request.id or 0)
    messages = [
        outbox.post(
            session,
            task.approver_id,
            approval_message(ctx, request, step, decisions, task),
            check_account=True,  # a deactivated approver is found out before the request waits on them
            flush=False,
        )
        for task in asked
    ]
    session.flush()  # one INSERT for every approver's message, which gives their ids
    for task, message in zip(asked, messages, strict=True):
        task.outbox_id = message.id
        session.add(task)
    outbox.refresh_homes(session, [t.approver_id for t in asked])
