"""Delegation: while I am away, the approval steps that would ask me ask my delegate too (`/access
delegate @person until <date> [role]`), "on behalf of" me in their message and the audit trail. Steps
marked `delegable: false` in chains.yaml (export compliance by default) are never delegated. A delegation
ends on its date or when revoked; either way the steps still waiting on the delegate are updated, and
steps waiting on me when it starts ask the delegate at once.

The rules are bot/domain/delegations.py; routing a step to delegates is bot/services/approvals/routing.py
(ask_delegates); deciding as one, bot/services/approvals/eligibility.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.domain.delegations import DelegationError, Duty, check_delegation, covers
from bot.notify import outbox
from bot.present.approvals import approval_message
from bot.present.replies import Notice, Person
from bot.services.approvals.routing import ask_delegates
from bot.services.context import Context, Refusal
from bot.store import accounts, audit, delegations
from bot.store import approvals as tasks
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.locks import directive_barrier
from bot.store.tables import Delegation

CLOSE_BATCH = 100


@dataclass(frozen=True)
class Delegated:
    """A delegation made, and how many waiting steps now ask the delegate too."""

    delegation: Delegation
    steps: int


def delegate(
    ctx: Context, *, delegator_id: str, delegate_id: str, ends_at: datetime, role: str | None
) -> Delegated:
    """Hand `delegator_id`'s approval duties (all, or those of `role`: a role they hold, or `manager`)
    to `delegate_id` from now until `ends_at`; steps already waiting on the delegator ask the delegate
    too. Audited `delegation.created`; the delegate is told by DM. Raises Refusal saying why a delegation
    cannot be made (see check_delegation; an account Slack reports deactivated)."""
    now = ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        known = bool(people.present_ids_of(session, [delegate_id])) and not accounts.deactivated(
            session, [delegate_id]
        )
        try:
            check_delegation(
                delegator_id=delegator_id,
                delegate_id=delegate_id,
                role=role,
                delegator_roles=people.roles_of(session, delegator_id),
                delegate_known=known,
                ends_at=ends_at,
                now=now,
            )
        except DelegationError as error:
            raise Refusal(str(error), title="Not delegated") from None
        if not people.present_ids_of(session, [delegator_id]):
            raise Refusal("You are not in the AccessBot directory, so you have no approvals to delegate.")
        row = Delegation(
            delegator_id=delegator_id, delegate_id=delegate_id, role=role, starts_at=now, ends_at=ends_at
        )
        session.add(row)
        session.flush()
        audit.record(
            session, actor=delegator_id, action="delegation.created", subject_type="delegation",
            subject_id=row.id or 0,
            after={"delegate": delegate_id, "role": role, "ends_at": ends_at.isoformat()},
        )  # fmt: skip
        steps = 0
        for request, step, task in delegations.waiting_on(session, delegator_id):
            if task.approver_id in {d.approver_id for d in queries.decisions_of(session, request.id or 0)}:
                continue
            steps += bool(ask_delegates(ctx, session, request, step, [task]))
        outbox.post(
            session,
            delegate_id,
            Notice(
                "{delegator} delegated their approvals ({what}) to you until {until}. Approval requests "
                'that ask them ask you too, marked "on behalf of".',
                values={"delegator": Person(delegator_id), "what": role or "all", "until": _shown(ends_at)},
            ),
        )
        outbox.refresh_homes(session, [delegator_id, delegate_id])
        uow.commit()
    return Delegated(row, steps)


def end_delegation(ctx: Context, *, actor: str, delegation_id: int) -> Delegation:
    """Revoke a delegation in effect (its delegator, or an access admin): the steps still waiting on the
    delegate on the delegator's behalf stop counting their decision and their messages say so. Audited
    `delegation.revoked`. Raises Refusal for an unknown or finished delegation, or anyone else."""
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        row = delegations.lock(session, delegation_id)
        now = ctx.clock()
        admin = people.has_role(session, actor, ctx.catalog.policy.admin_role)
        if row is None or (row.delegator_id != actor and not admin):
            raise Refusal(f"You have no delegation {delegation_id}. `/access delegate list` lists yours.")
        if row.revoked_at is not None or row.ends_at <= now:
            raise Refusal(f"That delegation to {row.delegate_id} has already ended.")
        row.revoked_at, row.revoked_by = now, actor
        session.add(row)
        audit.record(
            session, actor=actor, action="delegation.revoked", subject_type="delegation",
            subject_id=row.id or 0, after={"delegate": row.delegate_id},
        )  # fmt: skip
        _close(ctx, session, row, now)
        uow.commit()
    return row


def close_ended(ctx: Context, *, limit: int = CLOSE_BATCH) -> int:
    """Scheduler job: apply the end of every delegation whose date has passed to the steps still waiting
    on its delegate. Returns how many delegations it closed."""
    with ctx.uow() as uow:
        session = uow.session
        now = ctx.clock()
        ended = delegations.due_to_close(session, now, limit)
        for row in ended:
            audit.record(
                session, actor=audit.SYSTEM, action="delegation.ended", subject_type="delegation",
                subject_id=row.id or 0, after={"delegate": row.delegate_id},
            )  # fmt: skip
            _close(ctx, session, row, now)
        uow.commit()
    return len(ended)


def delegations_of(ctx: Context, user_id: str) -> list[Delegation]:
    """The delegations in effect that `user_id` made or received, oldest first."""
    with ctx.read() as session:
        return delegations.of_person(session, user_id, ctx.clock())


def _close(ctx: Context, session: Session, row: Delegation, now: datetime) -> None:
    """Withdraw the delegate's undecided tasks on the delegator's behalf and update their messages (no
    buttons, and why); tell both."""
    others = [
        d
        for d in delegations.active_from(session, [row.delegator_id], now).get(row.delegator_id, [])
        if d.id != row.id and d.delegate_id == row.delegate_id
    ]
    admin_role = ctx.catalog.policy.admin_role
    for request, step, task in delegations.open_tasks_of(session, row):
        decisions = queries.decisions_of(session, request.id or 0)
        if any(d.approver_id == task.approver_id for d in decisions):
            continue
        if any(covers(d.role, Duty(step.approvers, task.via_admin), admin_role) for d in others):
            continue  # another delegation to the same person still covers it
        task.withdrawn_at = now
        session.add(task)
        post = tasks.task_posts(session, [task]).get(task.outbox_id or 0)
        if post is not None:
            outbox.update(session, post, approval_message(ctx, request, step, decisions, task))
    row.closed_at = now
    session.add(row)
    outbox.post(
        session,
        row.delegate_id,
        Notice(
            "The delegation from {delegator} has ended: their approval requests no longer come to you.",
            values={"delegator": Person(row.delegator_id)},
        ),
    )
    outbox.refresh_homes(session, [row.delegator_id, row.delegate_id])


def _shown(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
