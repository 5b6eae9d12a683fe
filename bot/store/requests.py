"""Queries about requests, their steps, approval tasks, decisions and grants."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, case, exists, func, literal, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.policy import Existing
from bot.store.tables import (
    HELD_GRANT_STATUSES,
    AccessGrant,
    AccessRequest,
    ApprovalTask,
    Decision,
    OutboxMessage,
    Person,
    PersonRole,
    RequestStep,
    SlackAccount,
)


def lock_request(session: Session, request_id: int) -> AccessRequest | None:
    """The request row, locked until the transaction ends (SELECT … FOR UPDATE on PostgreSQL; on SQLite
    the write transaction already holds the database lock)."""
    return session.exec(select(AccessRequest).where(AccessRequest.id == request_id).with_for_update()).first()


def lock_grant(session: Session, grant_id: int) -> AccessGrant | None:
    return session.exec(select(AccessGrant).where(AccessGrant.id == grant_id).with_for_update()).first()


def step_at(session: Session, request_id: int, position: int) -> RequestStep | None:
    return session.exec(
        select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.position == position)
    ).first()


def decisions_of(session: Session, request_id: int) -> list[Decision]:
    return list(
        session.exec(select(Decision).where(Decision.request_id == request_id).order_by(col(Decision.id)))
    )


def tasks_at(session: Session, request_id: int, position: int) -> list[ApprovalTask]:
    return list(
        session.exec(
            select(ApprovalTask)
            .where(ApprovalTask.request_id == request_id, ApprovalTask.position == position)
            .order_by(col(ApprovalTask.id))
        )
    )


def task_for(session: Session, request_id: int, position: int, approver_id: str) -> ApprovalTask | None:
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


def existing_for(session: Session, user_id: str, model: str) -> Existing:
    grant = session.exec(
        select(AccessGrant).where(
            AccessGrant.user_id == user_id,
            AccessGrant.model == model,
            col(AccessGrant.status).in_(HELD_GRANT_STATUSES),
        )
    ).first()
    request_id = session.exec(
        select(AccessRequest.id).where(
            AccessRequest.requester_id == user_id,
            AccessRequest.model == model,
            AccessRequest.status == "pending",
        )
    ).first()
    return Existing(
        grant_id=grant.id if grant else None,
        grant_status=grant.status if grant else None,
        request_id=request_id,
    )


def requests_of(session: Session, user_id: str, statuses: Sequence[str] | None = None) -> list[AccessRequest]:
    query = select(AccessRequest).where(AccessRequest.requester_id == user_id)
    if statuses:
        query = query.where(col(AccessRequest.status).in_(statuses))
    return list(session.exec(query.order_by(col(AccessRequest.id).desc())))


def grants_of(session: Session, user_id: str, statuses: Sequence[str] | None = None) -> list[AccessGrant]:
    query = select(AccessGrant).where(AccessGrant.user_id == user_id)
    if statuses:
        query = query.where(col(AccessGrant.status).in_(statuses))
    return list(session.exec(query.order_by(col(AccessGrant.expires_at))))


def waiting_on(session: Session, approver_id: str) -> list[tuple[AccessRequest, RequestStep]]:
    """Pending requests whose current step asks this person and that they have not decided yet."""
    decided = select(Decision.request_id).where(Decision.approver_id == approver_id)
    query = (
        select(AccessRequest, RequestStep)
        .join(ApprovalTask, col(ApprovalTask.request_id) == col(AccessRequest.id))
        .join(
            RequestStep,
            (col(RequestStep.request_id) == col(AccessRequest.id))
            & (col(RequestStep.position) == col(AccessRequest.current_step)),
        )
        .where(
            AccessRequest.status == "pending",
            col(ApprovalTask.position) == col(AccessRequest.current_step),
            ApprovalTask.approver_id == approver_id,
            col(AccessRequest.id).not_in(decided),
        )
        .order_by(col(AccessRequest.id))
    )
    return [(request, step) for request, step in session.exec(query)]


def list_requests(
    session: Session, status: str | None = None, limit: int | None = None
) -> list[AccessRequest]:
    query = select(AccessRequest).order_by(col(AccessRequest.id))
    if status:
        query = query.where(AccessRequest.status == status)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def list_grants(session: Session, status: str | None = None, limit: int | None = None) -> list[AccessGrant]:
    query = select(AccessGrant).order_by(col(AccessGrant.id))
    if status:
        query = query.where(AccessGrant.status == status)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def approvals_at(session: Session, request_id: int, position: int) -> int:
    return session.exec(
        select(func.count()).where(
            Decision.request_id == request_id, Decision.position == position, Decision.verdict == "approve"
        )
    ).one()


def stranded_requests(
    session: Session, admin_role: str, limit: int, request_id: int | None = None
) -> list[int]:
    """Pending requests whose current step nobody can decide any more: every approver asked either never
    got the message (it failed permanently), has a deactivated Slack account, no longer qualifies (the
    directory changed), or has decided already (and the quorum still needs more)."""
    task = aliased(ApprovalTask)
    post = aliased(OutboxMessage)
    requester = aliased(Person)
    approver = aliased(Person)
    # Reachable: the request reached them (or is on its way), and Slack has not told us their account is
    # deactivated (Slack still accepts DMs to deactivated accounts, so delivery alone proves nothing).
    reachable = and_(
        or_(col(task.outbox_id).is_(None), col(post.status) != "failed"),
        ~exists()
        .where(SlackAccount.user_id == task.approver_id, col(SlackAccount.deleted))
        .correlate_except(SlackAccount),
    )
    # Every EXISTS below names the tables it reads itself and correlates everything else explicitly:
    # left to guess, SQLAlchemy would add the outer request or step to the subquery's own FROM, and the
    # condition would hold for any request instead of this one.
    holds = (
        exists()
        .where(
            PersonRole.slack_user_id == task.approver_id,
            PersonRole.role == case((col(task.via_admin), literal(admin_role)), else_=RequestStep.approvers),
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
        (and_(RequestStep.approvers == "manager", ~col(task.via_admin)), is_manager),
        else_=holds,
    )
    usable = (
        select(task.id)
        .outerjoin(post, col(post.id) == col(task.outbox_id))
        .where(
            task.request_id == AccessRequest.id,
            task.position == AccessRequest.current_step,
            reachable,
            qualifies,
            # Someone who already decided cannot make up the rest of a quorum.
            ~exists()
            .where(Decision.request_id == AccessRequest.id, Decision.approver_id == task.approver_id)
            .correlate_except(Decision),
        )
        .correlate_except(task, post)
    )
    query = (
        select(AccessRequest.id)
        .join(
            RequestStep,
            (col(RequestStep.request_id) == col(AccessRequest.id))
            & (col(RequestStep.position) == col(AccessRequest.current_step)),
        )
        .where(AccessRequest.status == "pending", ~exists(usable))
        .order_by(col(AccessRequest.id))
        .limit(limit)
    )
    if request_id is not None:
        query = query.where(AccessRequest.id == request_id)
    return [int(i) for i in session.exec(query).all()]
