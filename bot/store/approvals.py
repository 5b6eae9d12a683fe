"""Approval tasks and decisions: who a step asked, what they decided, the DMs that asked them, and the
steps nobody asked can decide any more."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.catalog import MANAGER
from bot.domain.status import OutboxStatus, RequestStatus, StepStatus, Verdict
from bot.store.requests import at_current_step
from bot.store.tables import (
    AccessRequest,
    ApprovalTask,
    Decision,
    OutboxMessage,
    Person,
    PersonRole,
    RequestStep,
    SlackAccount,
)


def add_tasks(
    session: Session,
    step: RequestStep,
    approvers: Sequence[str],
    via_admin: Collection[str],
    on_behalf_of: Mapping[str, str] | None = None,
) -> list[ApprovalTask]:
    """Insert one task per approver of the step, in the order given; `via_admin` are those asked as
    access admins rather than as the step's own approvers, `on_behalf_of` maps a delegate to the
    approver they stand in for. Flushed, so their ids are known."""
    tasks = [
        ApprovalTask(
            request_id=step.request_id,
            position=step.position,
            approver_id=approver,
            via_admin=approver in via_admin,
            on_behalf_of=(on_behalf_of or {}).get(approver),
        )
        for approver in approvers
    ]
    session.add_all(tasks)
    session.flush()
    return tasks


def task_posts(session: Session, tasks: Collection[ApprovalTask]) -> dict[int, OutboxMessage]:
    """The outbox rows that carried these tasks' DMs, by outbox id (tasks not yet posted are skipped)."""
    ids = [t.outbox_id for t in tasks if t.outbox_id is not None]
    if not ids:
        return {}
    rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))
    return {row.id: row for row in rows if row.id is not None}


def add_decision(
    session: Session,
    step: RequestStep,
    approver_id: str,
    verdict: Verdict,
    reason: str | None,
    decided_at: datetime,
) -> Decision:
    """Insert one approver's decision on the step. Flushed at once: raises sqlalchemy's IntegrityError
    when this person already decided on the request (one decision per person per request)."""
    decision = Decision(
        request_id=step.request_id,
        position=step.position,
        approver_id=approver_id,
        verdict=verdict,
        reason=reason,
        decided_at=decided_at,
    )
    session.add(decision)
    session.flush()
    return decision


def decided_for(session: Session, request_id: int) -> set[str]:
    """Everyone whose authority has decided a step of the request: each person who decided, and each
    approver a delegate decided for. None of them may decide (or be asked) again in this request."""
    rows = session.exec(
        select(Decision.approver_id, ApprovalTask.on_behalf_of)
        .outerjoin(
            ApprovalTask,
            (col(ApprovalTask.request_id) == col(Decision.request_id))
            & (col(ApprovalTask.position) == col(Decision.position))
            & (col(ApprovalTask.approver_id) == col(Decision.approver_id)),
        )
        .where(Decision.request_id == request_id)
    )
    found: set[str] = set()
    for approver, behalf in rows:
        found.add(approver)
        if behalf:
            found.add(behalf)
    return found


def task_for(session: Session, request_id: int, position: int, approver_id: str) -> ApprovalTask | None:
    """The task asking this approver to decide the step at `position`, or None if it never asked them."""
    return session.exec(
        select(ApprovalTask).where(
            ApprovalTask.request_id == request_id,
            ApprovalTask.position == position,
            ApprovalTask.approver_id == approver_id,
        )
    ).first()


def approvers_of(session: Session, request_id: int) -> list[str]:
    """Everyone any step of the request has asked."""
    return list(
        session.exec(select(ApprovalTask.approver_id).where(ApprovalTask.request_id == request_id).distinct())
    )


def is_assigned(session: Session, request_id: int, approver_id: str) -> bool:
    """Whether any step of the request ever asked this person."""
    found = session.exec(
        select(ApprovalTask.id).where(
            ApprovalTask.request_id == request_id, ApprovalTask.approver_id == approver_id
        )
    ).first()
    return found is not None


def approvals_at(session: Session, request_id: int, position: int) -> int:
    """How many approvals the step at `position` has."""
    return session.exec(
        select(func.count()).where(
            Decision.request_id == request_id,
            Decision.position == position,
            Decision.verdict == Verdict.APPROVE,
        )
    ).one()


def waiting_steps(session: Session, now: datetime, limit: int) -> list[int]:
    """Pending requests whose current step owes a reminder or its escalation by `now` (UTC), the longest
    due first, at most `limit`: the reminder job's candidates (each is locked and checked again in its
    own transaction)."""
    return list(
        session.exec(
            select(AccessRequest.id)
            .join(RequestStep, at_current_step())
            .where(
                AccessRequest.status == RequestStatus.PENDING,
                RequestStep.status == StepStatus.PENDING,
                col(RequestStep.next_follow_up_at) <= now,
            )
            .order_by(col(RequestStep.next_follow_up_at), col(AccessRequest.id))
            .limit(limit)
        )
    )


def stranded_requests(
    session: Session,
    admin_role: str,
    limit: int,
    request_id: int | None = None,
    escalation_role: str | None = None,
) -> list[int]:
    """Pending requests whose current step nobody can decide any more: every approver asked either never
    got the message (it failed permanently), has a deactivated Slack account, no longer qualifies (the
    directory changed), or has decided already (and the quorum still needs more). Up to `limit` ids,
    oldest first; only `request_id`'s, when given."""
    query = _stranded_query(admin_role, escalation_role, request_id is not None)
    params: dict[str, Any] = {"limit": limit, "request_id": request_id}
    return [int(i) for i in session.exec(query, params=params).all()]  # type: ignore[call-overload]


# The scheduler asks every tick, and composing this query costs more Python than running it: it is built
# once per roles, with the limit and the request as bound parameters.
@functools.lru_cache(maxsize=8)
def _stranded_query(admin_role: str, escalation_role: str | None, one_request: bool) -> Any:
    task = aliased(ApprovalTask)
    post = aliased(OutboxMessage)
    requester = aliased(Person)
    approver = aliased(Person)
    leaver = aliased(Person)
    # Reachable: the request reached them (or is on its way), and Slack has not told us their account is
    # deactivated (Slack still accepts DMs to deactivated accounts, so delivery alone proves nothing).
    # A departed approver (a full directory import no longer lists them) is unreachable too.
    reachable = and_(
        or_(col(task.outbox_id).is_(None), col(post.status) != OutboxStatus.FAILED),
        ~exists()
        .where(SlackAccount.user_id == task.approver_id, col(SlackAccount.deleted))
        .correlate_except(SlackAccount),
        ~exists()
        .where(leaver.slack_user_id == task.approver_id, col(leaver.departed_at).is_not(None))
        .correlate_except(leaver),
    )
    # Every EXISTS below names the tables it reads itself and correlates everything else explicitly:
    # left to guess, SQLAlchemy would add the outer request or step to the subquery's own FROM, and the
    # condition would hold for any request instead of this one.
    # Asked as an admin: still one, or (the step escalated) still of the role it escalated to.
    as_admin = or_(
        PersonRole.role == admin_role,
        and_(col(RequestStep.escalated_at).is_not(None), PersonRole.role == (escalation_role or admin_role)),
    )
    holds = (
        exists()
        .where(
            PersonRole.slack_user_id == task.approver_id,
            case((col(task.via_admin), as_admin), else_=PersonRole.role == RequestStep.approvers),
        )
        .correlate_except(PersonRole)
    )
    is_manager = (
        exists()
        .where(
            requester.slack_user_id == AccessRequest.requester_id,
            approver.slack_user_id == task.approver_id,
            requester.manager_email == approver.email,
        )
        .correlate_except(requester, approver)
    )
    qualifies = case(
        # A delegate stands in for the approver while the delegation lasts (checked when they decide).
        (col(task.on_behalf_of).is_not(None), true()),
        (and_(RequestStep.approvers == MANAGER, ~col(task.via_admin)), is_manager),
        else_=holds,
    )
    stand_in = aliased(ApprovalTask)
    usable = (
        select(task.id)
        .outerjoin(post, col(post.id) == col(task.outbox_id))
        .where(
            task.request_id == AccessRequest.id,
            task.position == AccessRequest.current_step,
            col(task.withdrawn_at).is_(None),
            reachable,
            qualifies,
            # Someone who already decided cannot make up the rest of a quorum.
            ~exists()
            .where(Decision.request_id == AccessRequest.id, Decision.approver_id == task.approver_id)
            .correlate_except(Decision),
            # Nor can an approver whose delegate decided for them, nor another delegate of theirs.
            ~exists()
            .where(
                Decision.request_id == AccessRequest.id,
                stand_in.request_id == AccessRequest.id,
                stand_in.approver_id == Decision.approver_id,
                stand_in.on_behalf_of == func.coalesce(task.on_behalf_of, task.approver_id),
            )
            .correlate_except(Decision, stand_in),
        )
        .correlate_except(task, post)
    )
    query = (
        select(AccessRequest.id)
        .join(RequestStep, at_current_step())
        .where(AccessRequest.status == RequestStatus.PENDING, ~exists(usable))
        .order_by(col(AccessRequest.id))
        .limit(bindparam("limit"))
    )
    if one_request:
        query = query.where(AccessRequest.id == bindparam("request_id"))
    return query
