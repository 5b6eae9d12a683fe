"""Queries about requests, their steps and decisions, and the grants they end in. Approval tasks,
the decisions' inserts and the stranded-steps query are in bot/store/approvals.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.policy import Existing
from bot.domain.status import HELD_GRANT_STATUSES, GrantStatus, RequestStatus
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    ApprovalTask,
    Decision,
    GrantConfirmation,
    GrantSuspension,
    RequestStep,
)
from bot.store.tables.access import grant_held


def lock_request(session: Session, request_id: int) -> AccessRequest | None:
    """The request row, locked until the transaction ends (SELECT … FOR UPDATE on PostgreSQL; on SQLite
    the write transaction already holds the database lock)."""
    return session.exec(select(AccessRequest).where(AccessRequest.id == request_id).with_for_update()).first()


def lock_grant(session: Session, grant_id: int) -> AccessGrant | None:
    """The grant row, locked until the transaction ends (as lock_request)."""
    return session.exec(select(AccessGrant).where(AccessGrant.id == grant_id).with_for_update()).first()


def step_at(session: Session, request_id: int, position: int) -> RequestStep | None:
    """The request's step at `position` (counting from 0), or None."""
    return session.exec(
        select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.position == position)
    ).first()


def decisions_of(session: Session, request_id: int) -> list[Decision]:
    """Every decision on the request, in the order they were recorded."""
    return list(
        session.exec(select(Decision).where(Decision.request_id == request_id).order_by(col(Decision.id)))
    )


def tasks_at(session: Session, request_id: int, position: int) -> list[ApprovalTask]:
    """Everyone the step at `position` asked, in the order they were asked."""
    return list(
        session.exec(
            select(ApprovalTask)
            .where(ApprovalTask.request_id == request_id, ApprovalTask.position == position)
            .order_by(col(ApprovalTask.id))
        )
    )


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
            AccessRequest.status == RequestStatus.PENDING,
        )
    ).first()
    return Existing(
        grant_id=grant.id if grant else None,
        grant_status=grant.status if grant else None,
        request_id=request_id,
    )


def pending_extension_of(session: Session, grant_id: int) -> AccessRequest | None:
    """The pending request to extend the grant, locked (at most one: one pending request per person and
    model), or None."""
    return session.exec(
        select(AccessRequest)
        .where(AccessRequest.extends_grant_id == grant_id, AccessRequest.status == RequestStatus.PENDING)
        .with_for_update()
    ).first()


def grants_by_ids(session: Session, grant_ids: Sequence[int]) -> list[AccessGrant]:
    """The grants with these ids (one query)."""
    if not grant_ids:
        return []
    return list(session.exec(select(AccessGrant).where(col(AccessGrant.id).in_(sorted(set(grant_ids))))))


# The reads of `/access status` and the App Home, built once per set of statuses with bound parameters: on
# the ack path, composing a statement cost more Python than running it (SQLAlchemy caches a statement's
# SQL, not the work of building it). Statuses are compared one by one rather than with IN, whose list
# SQLAlchemy splices into the SQL text again at every execution.
_USER = bindparam("user_id")


@lru_cache(maxsize=32)
def _requests_of_query(statuses: tuple[str, ...]) -> Any:
    query = select(AccessRequest).where(AccessRequest.requester_id == _USER)
    if statuses:
        query = query.where(or_(*(AccessRequest.status == status for status in statuses)))
    return query.order_by(col(AccessRequest.id).desc())


@lru_cache(maxsize=32)
def _grants_of_query(statuses: tuple[str, ...]) -> Any:
    query = select(AccessGrant).where(AccessGrant.user_id == _USER)
    if statuses:
        query = query.where(or_(*(AccessGrant.status == status for status in statuses)))
    return query.order_by(col(AccessGrant.expires_at))


def requests_of(session: Session, user_id: str, statuses: Sequence[str] | None = None) -> list[AccessRequest]:
    """`user_id`'s requests (only those in `statuses` when given), newest first."""
    query = _requests_of_query(tuple(statuses or ()))
    return list(session.exec(query, params={"user_id": user_id}))


def grants_of(session: Session, user_id: str, statuses: Sequence[str] | None = None) -> list[AccessGrant]:
    """`user_id`'s grants (only those in `statuses` when given), soonest to end first."""
    query = _grants_of_query(tuple(statuses or ()))
    return list(session.exec(query, params={"user_id": user_id}))


def at_current_step() -> ColumnElement[bool]:
    """SQL joining a RequestStep to its AccessRequest's current step."""
    return (col(RequestStep.request_id) == col(AccessRequest.id)) & (
        col(RequestStep.position) == col(AccessRequest.current_step)
    )


def _waiting_on_query() -> Any:
    approver = bindparam("approver_id")
    stand_in = aliased(ApprovalTask)
    return (
        select(AccessRequest, RequestStep, ApprovalTask)
        .join(ApprovalTask, col(ApprovalTask.request_id) == col(AccessRequest.id))
        .join(RequestStep, at_current_step())
        .where(
            AccessRequest.status == RequestStatus.PENDING,
            col(ApprovalTask.position) == col(AccessRequest.current_step),
            ApprovalTask.approver_id == approver,
            col(ApprovalTask.withdrawn_at).is_(None),  # a delegate whose delegation ended
            # nor an approver whose delegate has decided for them
            ~exists().where(
                stand_in.request_id == AccessRequest.id,
                stand_in.on_behalf_of == approver,
                col(stand_in.approver_id).in_(
                    select(Decision.approver_id).where(Decision.request_id == AccessRequest.id)
                ),
            ),
            col(AccessRequest.id).not_in(select(Decision.request_id).where(Decision.approver_id == approver)),
        )
        .order_by(col(AccessRequest.id))
    )


_WAITING_ON = _waiting_on_query()


def waiting_on(session: Session, approver_id: str) -> list[tuple[AccessRequest, RequestStep, ApprovalTask]]:
    """Pending requests whose current step asks this person and that they have not decided yet, with the
    step and the task that asks them (its `on_behalf_of`: whom they stand in for, if a delegate)."""
    rows = session.exec(_WAITING_ON, params={"approver_id": approver_id})
    return [(request, step, task) for request, step, task in rows]


def latest_grant(session: Session, user_id: str, model: str) -> AccessGrant | None:
    """`user_id`'s most recent grant of `model`, whatever its status (at most one is ever held)."""
    return session.exec(
        select(AccessGrant)
        .where(AccessGrant.user_id == user_id, AccessGrant.model == model)
        .order_by(col(AccessGrant.id).desc())
        .limit(1)
    ).first()


def confirmed_holds(session: Session, grant_id: int) -> frozenset[str]:
    """The holds export compliance confirmed away for this grant (bot/domain/entitlement.py CONFIRMABLE)."""
    rows = session.exec(select(GrantConfirmation.hold).where(GrantConfirmation.grant_id == grant_id)).all()
    return frozenset(rows)


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


def add_grant(
    session: Session, request: AccessRequest, *, starts_at: datetime, expires_at: datetime
) -> AccessGrant:
    """Insert the active grant an approved request ends in; flushed, so its id is known."""
    grant = AccessGrant(
        user_id=request.requester_id,
        model=request.model,
        request_id=request.id,
        status=GrantStatus.ACTIVE,
        starts_at=starts_at,
        expires_at=expires_at,
        created_at=starts_at,
        updated_at=starts_at,
    )
    session.add(grant)
    session.flush()
    return grant


def confirm_holds(session: Session, grant_id: int, holds: Sequence[str]) -> None:
    """Record that export compliance confirmed these holds (bot/domain/entitlement.py CONFIRMABLE) for
    the grant: their facts were missing when it was approved."""
    session.add_all(GrantConfirmation(grant_id=grant_id, hold=str(hold)) for hold in holds)


def claim_due_grants(session: Session, now: datetime, limit: int) -> list[AccessGrant]:
    """Held grants whose end time has come (`expires_at <= now`, UTC), soonest first, at most `limit`,
    locked with SKIP LOCKED so that several servers never end (and announce) the same grant twice."""
    return list(
        session.exec(
            select(AccessGrant)
            .where(grant_held(), col(AccessGrant.expires_at) <= now)
            .order_by(col(AccessGrant.expires_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def claim_stale_requests(session: Session, now: datetime, limit: int) -> list[AccessRequest]:
    """Pending requests past their deadline (`expires_at <= now`, UTC), oldest first, at most `limit`,
    locked with SKIP LOCKED so that several servers never expire the same request twice."""
    return list(
        session.exec(
            select(AccessRequest)
            .where(AccessRequest.status == RequestStatus.PENDING, col(AccessRequest.expires_at) <= now)
            .order_by(col(AccessRequest.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def release_suspensions_of(session: Session, grant_id: int, now: datetime) -> None:
    """Close every open directive hold on a grant that has ended: lifting a directive later must not
    speak of it as held."""
    session.exec(  # type: ignore[call-overload]
        update(GrantSuspension)
        .where(col(GrantSuspension.grant_id) == grant_id, col(GrantSuspension.released_at).is_(None))
        .values(released_at=now)
    )
