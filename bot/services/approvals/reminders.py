"""Reminders and escalation of waiting approval steps: a step waiting longer than `approval_reminder_after`
reminds the approvers who have not answered, in the thread of the message that asked them (not a new
DM), up to `approval_reminders` times; once it has waited `approval_escalate_after` it also goes to the
holders of `approval_escalate_to` (the access-admin role by default), saying who has not answered. The
requester is told each time. Timings: policy.yaml, or the model's own (bot/domain/reminders.py).
`request_ttl` still ends the request (bot/services/requests.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot.domain.catalog import ReminderTimings
from bot.domain.durations import approximate_duration
from bot.domain.reminders import escalation_due, next_follow_up, reminders_due
from bot.domain.status import RequestStatus, StepStatus
from bot.notify import outbox
from bot.present.replies import Screen
from bot.present.rows import request_data, step_data
from bot.services.approvals.notices import tell_requester
from bot.services.approvals.routing import ask
from bot.services.approvals.sweeps import sweep
from bot.services.context import Context
from bot.store import accounts, audit
from bot.store import approvals as tasks
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.tables import AccessRequest, ApprovalTask, OutboxMessage, RequestStep

BATCH = 50
log = logging.getLogger(__name__)


def remind_and_escalate(ctx: Context, *, limit: int = BATCH) -> int:
    """Scheduler job: send the reminders and escalations due, the longest due first, one request per
    transaction (its row locked, so that two replicas never remind twice). Returns how many steps it
    looked at and followed up."""
    with ctx.read() as session:
        candidates = tasks.waiting_steps(session, ctx.clock(), limit)

    def follow_up(session: Session, request: AccessRequest) -> bool:
        if request.status != RequestStatus.PENDING or request.current_step is None:
            return False  # decided meanwhile
        step = queries.step_at(session, request.id or 0, request.current_step)
        if step is None or step.status != StepStatus.PENDING or step.started_at is None:
            return False
        _follow_up(ctx, session, request, step)
        return True

    return sweep(ctx, candidates, follow_up)


def _follow_up(ctx: Context, session: Session, request: AccessRequest, step: RequestStep) -> None:
    """Remind and escalate the step as due, then schedule what it owes next. A request past its deadline
    is left to the expiry job."""
    now = ctx.clock()
    assert step.started_at is not None
    if request.expires_at is not None and request.expires_at <= now:
        step.next_follow_up_at = None
        session.add(step)
        return
    timings = ctx.catalog.reminders_for(ctx.catalog.model(request.model))
    decided = tasks.decided_for(session, request.id or 0)  # deciders, and whom delegates decided for
    asked = queries.tasks_at(session, request.id or 0, step.position)
    silent = [
        t
        for t in asked
        if t.approver_id not in decided
        and (t.on_behalf_of or t.approver_id) not in decided
        and t.withdrawn_at is None
    ]
    due = reminders_due(step.started_at, now, timings)
    if due > step.reminders_sent:
        if silent:
            _remind(ctx, session, request, step, silent, due, timings, now)
        step.reminders_sent = due
    if step.escalated_at is None and escalation_due(step.started_at, now, timings):
        _escalate(ctx, session, request, step, silent, {t.approver_id for t in asked} | decided, now)
    step.next_follow_up_at = next_follow_up(
        step.started_at, timings, step.reminders_sent, step.escalated_at is not None
    )
    session.add(step)


def _remind(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    step: RequestStep,
    silent: list[ApprovalTask],
    due: int,
    timings: ReminderTimings,
    now: datetime,
) -> None:
    """Reply in the thread of each silent approver's request message (a new DM if it never went out)."""
    assert step.started_at is not None
    waited = approximate_duration(now - step.started_at)
    reminder = Screen(
        "approval_reminder",
        {
            "request": request_data(ctx.catalog, request),
            "step": step_data(step, []),
            "waited": waited,
            "number": due,
            "of": timings.reminders,
        },
    )
    for task in silent:
        original = session.get(OutboxMessage, task.outbox_id) if task.outbox_id else None
        if original is not None:
            outbox.reply_in_thread(session, original, reminder)
        else:
            outbox.post(session, task.approver_id, reminder)
    approvers = [t.approver_id for t in silent]
    audit.record(
        session, actor=audit.SYSTEM, action="step.reminded", subject_type="request",
        subject_id=request.id or 0, after={"step": step.position + 1, "reminder": due},
        detail={"approvers": approvers},
    )  # fmt: skip
    tell_requester(
        ctx, session, request, "reminded",
        next_step={**step_data(step, []), "waiting_on": approvers, "waited": waited, "reminder": due},
    )  # fmt: skip


def _reachable(session: Session, role: str, excluded: set[str]) -> list[str]:
    """The holders of `role` not `excluded`, without those Slack reports deactivated."""
    holders = sorted(set(people.holders_of_role(session, role)) - excluded)
    gone = accounts.deactivated(session, holders)
    return [h for h in holders if h not in gone]


def _escalate(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    step: RequestStep,
    silent: list[ApprovalTask],
    excluded: set[str],
    now: datetime,
) -> None:
    """Ask the escalation role's holders too (not the requester, nobody asked or decided already, no
    deactivated account), saying who has not answered; recorded once, even when nobody can take it."""
    assert step.started_at is not None
    role = ctx.catalog.escalation_role()
    targets = _reachable(session, role, excluded | {request.requester_id})
    if not targets and role != ctx.catalog.policy.admin_role:
        # Nobody of the configured role can take it: the access admins rather than nobody.
        role = ctx.catalog.policy.admin_role
        targets = _reachable(session, role, excluded | {request.requester_id})
    waited = approximate_duration(now - step.started_at)
    silent_ids = [t.approver_id for t in silent]
    step.escalated_at = now
    if not targets:
        log.warning("R%s: step %s could not be escalated: nobody of role %s can take it", request.id,
                    step.position + 1, role)  # fmt: skip
        audit.record(
            session, actor=audit.SYSTEM, action="step.escalation_failed", subject_type="request",
            subject_id=request.id or 0, after={"step": step.position + 1}, detail={"role": role},
        )  # fmt: skip
        return
    # Names, not mentions: the reason is shown as plain text (escaped) wherever it appears.
    known = people.load_people(session, silent_ids)
    names = ", ".join(known[a].name if a in known else a for a in silent_ids) or "nobody"
    step.routed_reason = f"Escalated: no answer from {names} after {waited}."
    ask(ctx, session, request, step, targets, via_admin=targets)
    audit.record(
        session, actor=audit.SYSTEM, action="step.escalated", subject_type="request",
        subject_id=request.id or 0, after={"step": step.position + 1, "approvers": targets},
        detail={"silent": silent_ids, "role": role},
    )  # fmt: skip
    tell_requester(
        ctx, session, request, "escalated",
        next_step={**step_data(step, []), "waiting_on": [*silent_ids, *targets], "silent": silent_ids,
                   "waited": waited},
    )  # fmt: skip
