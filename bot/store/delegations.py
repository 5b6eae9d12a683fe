"""Delegations on record, and the approval tasks they put in a delegate's hands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from bot.domain.status import RequestStatus, StepStatus
from bot.store.requests import at_current_step
from bot.store.tables import AccessRequest, ApprovalTask, Delegation, RequestStep


def active(now: datetime) -> ColumnElement[bool]:
    """SQL over Delegation: in effect at `now` (started, not ended, not revoked)."""
    return (
        (col(Delegation.starts_at) <= now)
        & (col(Delegation.ends_at) > now)
        & col(Delegation.revoked_at).is_(None)
    )


def active_from(
    session: Session, delegator_ids: Iterable[str], now: datetime, *, lock: bool = False
) -> dict[str, list[Delegation]]:
    """Delegator -> their delegations in effect at `now`, oldest first (one query); with `lock`, those
    rows locked until the transaction ends (a decision by a delegate, against a revocation)."""
    ids = sorted(set(delegator_ids))
    found: dict[str, list[Delegation]] = defaultdict(list)
    if ids:
        query = (
            select(Delegation)
            .where(col(Delegation.delegator_id).in_(ids), active(now))
            .order_by(col(Delegation.id))
        )
        for row in session.exec(query.with_for_update() if lock else query):
            found[row.delegator_id].append(row)
    return found


def of_person(session: Session, user_id: str, now: datetime) -> list[Delegation]:
    """The delegations in effect at `now` that `user_id` made or received, oldest first."""
    return list(
        session.exec(
            select(Delegation)
            .where(or_(Delegation.delegator_id == user_id, Delegation.delegate_id == user_id), active(now))
            .order_by(col(Delegation.id))
        )
    )


def lock(session: Session, delegation_id: int) -> Delegation | None:
    """The delegation row, locked until the transaction ends."""
    return session.exec(select(Delegation).where(Delegation.id == delegation_id).with_for_update()).first()


def due_to_close(session: Session, now: datetime, limit: int) -> list[Delegation]:
    """Delegations that ended (their date passed, or revoked) whose end has not yet been applied to the
    steps waiting on their delegate; locked with SKIP LOCKED so that two servers never close one twice."""
    return list(
        session.exec(
            select(Delegation)
            .where(
                col(Delegation.closed_at).is_(None),
                or_(col(Delegation.ends_at) <= now, col(Delegation.revoked_at).is_not(None)),
            )
            .order_by(col(Delegation.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def open_tasks_of(
    session: Session, delegation: Delegation
) -> list[tuple[AccessRequest, RequestStep, ApprovalTask]]:
    """The delegate's tasks on the delegator's behalf that still count, at the current step of pending
    requests (their decision not made yet is for the caller to check)."""
    return _current_tasks(
        session,
        ApprovalTask.approver_id == delegation.delegate_id,
        ApprovalTask.on_behalf_of == delegation.delegator_id,
        col(ApprovalTask.withdrawn_at).is_(None),
    )


def waiting_on(session: Session, approver_id: str) -> list[tuple[AccessRequest, RequestStep, ApprovalTask]]:
    """The tasks of `approver_id` in their own right at the current step of pending requests (for a new
    delegation of theirs to reach them)."""
    return _current_tasks(
        session, ApprovalTask.approver_id == approver_id, col(ApprovalTask.on_behalf_of).is_(None)
    )


def _current_tasks(
    session: Session, *conditions: ColumnElement[bool]
) -> list[tuple[AccessRequest, RequestStep, ApprovalTask]]:
    """Tasks meeting `conditions` at the current step of pending requests, with the request and step, in
    request order."""
    rows = session.exec(
        select(AccessRequest, RequestStep, ApprovalTask)
        .join(RequestStep, at_current_step())
        .join(
            ApprovalTask,
            (col(ApprovalTask.request_id) == col(AccessRequest.id))
            & (col(ApprovalTask.position) == col(RequestStep.position)),
        )
        .where(
            AccessRequest.status == RequestStatus.PENDING,
            RequestStep.status == StepStatus.PENDING,
            *conditions,
        )
        .order_by(col(AccessRequest.id))
    )
    return [(request, step, task) for request, step, task in rows]
