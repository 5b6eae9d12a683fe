"""Steps that would otherwise wait on nobody: when everyone a step asked became unreachable or
unqualified, the access admins are asked instead, or the request is denied with the reason."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.status import RequestStatus, StepStatus
from bot.notify import outbox
from bot.present.approvals import approval_message
from bot.present.rows import step_data
from bot.services.approvals.finishing import finish_request
from bot.services.approvals.notices import tell_requester
from bot.services.approvals.routing import ask
from bot.services.approvals.sweeps import sweep
from bot.services.context import Context
from bot.store import accounts, audit
from bot.store import approvals as tasks
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.tables import AccessRequest, ApprovalTask, Decision, RequestStep

STRANDED = (
    "Nobody asked for this step can decide it any more (Slack reports their account deactivated or "
    "unreachable, or the directory no longer gives them the role), so it goes to the access admins."
)


def reroute_stranded(ctx: Context, *, limit: int = 50) -> int:
    """Scheduler job: a step whose approvers all became unreachable or unqualified goes to the access
    admins (or, if none can take it, the request is denied with the reason): a request never waits on
    nobody. Looks at up to `limit` requests, one transaction each; returns how many it handled."""
    admin_role, escalation = ctx.catalog.policy.admin_role, ctx.catalog.escalation_role()
    with ctx.read() as session:
        candidates = tasks.stranded_requests(session, admin_role, limit, escalation_role=escalation)

    def reroute(session: Session, request: AccessRequest) -> bool:
        if not tasks.stranded_requests(session, admin_role, 1, request.id, escalation_role=escalation):
            return False  # decided or rerouted meanwhile
        _reroute(ctx, session, request)
        return True

    return sweep(ctx, candidates, reroute)


def _reroute(ctx: Context, session: Session, request: AccessRequest) -> None:
    position = request.current_step or 0
    step = queries.step_at(session, request.id or 0, position)
    assert step is not None, "steps are created with the request"
    decisions = queries.decisions_of(session, request.id or 0)
    at_step = queries.tasks_at(session, request.id or 0, position)
    decided = {d.approver_id for d in decisions}
    excluded = {t.approver_id for t in at_step} | decided | {request.requester_id}
    admins = sorted(set(people.holders_of_role(session, ctx.catalog.policy.admin_role)) - excluded)
    gone = accounts.deactivated(session, admins)
    admins = [a for a in admins if a not in gone]
    still_needed = step.quorum - tasks.approvals_at(session, request.id or 0, position)
    if len(admins) < still_needed:
        step.status = StepStatus.CANCELLED
        session.add(step)
        reason = (
            f"Nobody who can approve step {position + 1} ({step.name}) can be reached. "
            f"Ask {ctx.catalog.policy.contact} to fix the directory, then ask again."
        )
        finish_request(ctx, session, request, RequestStatus.DENIED, reason=reason, actor=audit.SYSTEM)
        return
    step.routed_reason = STRANDED
    session.add(step)
    left_behind = [t for t in at_step if t.withdrawn_at is None and t.approver_id not in decided]
    ask(ctx, session, request, step, admins, via_admin=admins)
    _withdraw(ctx, session, request, step, decisions, left_behind)
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="step.rerouted",
        subject_type="request",
        subject_id=request.id or 0,
        after={"step": position + 1, "approvers": admins},
        detail={"reason": STRANDED},
    )
    tell_requester(
        ctx, session, request, "rerouted", next_step={**step_data(step, decisions), "waiting_on": admins}
    )


def _withdraw(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    step: RequestStep,
    decisions: list[Decision],
    left: list[ApprovalTask],
) -> None:
    """Take the step from those it asked and no longer waits on: their copies lose the buttons and say
    where the step went (a click on one was refused anyway, but the copy should not invite it)."""
    if not left:
        return
    now = ctx.clock()
    for task in left:
        task.withdrawn_at = now
        session.add(task)
    note = (
        f"Step {step.position + 1} went to the access admins: Slack or the directory no longer lets you "
        "decide it."
    )
    posts = tasks.task_posts(session, left)
    for task in left:
        post = posts.get(task.outbox_id or 0)
        if post is not None:
            outbox.update(session, post, approval_message(ctx, request, step, decisions, task, note))
