"""What a directive does to grants and requests, as set-based SQL: whatever the number of grants, putting
a directive in force or lifting it is a handful of INSERT … SELECT and UPDATE … WHERE statements, each
with the audit events of every row it changes, written by the database in the same transaction.

The rows a directive touches are chosen by `held_grants` and `pending_requests` (bot/store/directives.py),
so counting its impact and applying it can never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, func, insert, literal, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.directives import STOPPED_BY
from bot.domain.status import GrantStatus, RequestStatus, StepStatus
from bot.domain.webhooks import GRANT_REINSTATED, GRANT_SUSPENDED
from bot.store import audit, webhooks
from bot.store.directives import Reach, held_grants, pending_requests
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    ApprovalTask,
    GrantHold,
    GrantSuspension,
    OutboxMessage,
    RequestStep,
)
from bot.store.types import UTCDateTime

# -- impact --------------------------------------------------------------------------------------------


def held_grant_counts(session: Session, reach: Reach) -> list[tuple[str, GrantStatus, int]]:
    """(model, status, how many) of the grants the population holds on these models: the active ones a
    directive would suspend and those already suspended by another."""
    rows = session.exec(
        select(AccessGrant.model, AccessGrant.status, func.count())
        .where(held_grants(reach))
        .group_by(AccessGrant.model, AccessGrant.status)
    )
    return [(slug, GrantStatus(status), int(count)) for slug, status, count in rows]


def pending_request_counts(session: Session, reach: Reach) -> list[tuple[str, int]]:
    """(model, how many) of the population's pending requests that a directive would stop."""
    rows = session.exec(
        select(AccessRequest.model, func.count()).where(pending_requests(reach)).group_by(AccessRequest.model)
    )
    return [(slug, int(count)) for slug, count in rows]


# -- putting a directive in force ----------------------------------------------------------------------


def suspend_grants(
    session: Session,
    directive_id: int,
    reach: Reach,
    now: datetime,
    actor: str,
    effective_at: datetime | None = None,
) -> None:
    """Hold every grant the population has on these models under this directive: active ones become
    suspended, and those another directive suspended already stay so, held by both. `effective_at`: when
    the directive took effect, if before `now` (a scheduled directive put in force late): recorded with
    each suspension (its `suspended_at`, and its audit event), since gateways refused the grants from
    then on (bot/domain/access_history.py), so that the directive's report and point-in-time reports
    agree."""
    took_effect = effective_at if effective_at is not None and effective_at < now else now
    session.exec(  # type: ignore[call-overload]
        insert(GrantSuspension).from_select(
            ["grant_id", "directive_id", "user_id", "suspended_at"],
            select(
                AccessGrant.id,
                literal(directive_id, Integer),
                AccessGrant.user_id,
                literal(took_effect, UTCDateTime),
            ).where(held_grants(reach)),
        )
    )
    held_here = col(AccessGrant.id).in_(
        select(GrantSuspension.grant_id).where(GrantSuspension.directive_id == directive_id)
    )
    for status in (GrantStatus.ACTIVE, GrantStatus.SUSPENDED):
        audit.record_rows(
            session,
            now,
            actor,
            "grant.suspended",
            "grant",
            AccessGrant.id,
            before={"status": status},
            after={"status": GrantStatus.SUSPENDED},
            detail={"directive_id": directive_id, **audit.effective(effective_at, now)},
            where=and_(AccessGrant.status == status, held_here),
        )
    # Receivers hear of the grants this directive suspends; one already suspended stays so, unchanged.
    webhooks.grant_events(
        session, GRANT_SUSPENDED, and_(AccessGrant.status == GrantStatus.ACTIVE, held_here), now=now,
        actor=actor, data={"directive_id": directive_id},
    )  # fmt: skip
    session.exec(  # type: ignore[call-overload]
        update(AccessGrant)
        .where(AccessGrant.status == GrantStatus.ACTIVE, held_here)
        .values(status=GrantStatus.SUSPENDED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def approver_copies(reach: Reach) -> Select[Any]:
    """A SELECT of `lane`, `address` and `ref_id`: the posted approval request of the current step of
    each pending request a directive will stop, to be updated once it is stopped."""
    post = aliased(OutboxMessage)
    return (
        select(post.lane.label("lane"), post.address.label("address"), post.id.label("ref_id"))
        .select_from(ApprovalTask)
        .join(AccessRequest, col(AccessRequest.id) == col(ApprovalTask.request_id))
        .join(post, col(post.id) == col(ApprovalTask.outbox_id))
        .where(
            pending_requests(reach),
            col(ApprovalTask.position) == col(AccessRequest.current_step),
        )
    )


def stop_requests(
    session: Session,
    directive_id: int,
    reach: Reach,
    now: datetime,
    actor: str,
    reason: str,
) -> None:
    """Deny the population's pending requests for these models, citing the directive; their pending
    approval steps are cancelled."""
    pending = pending_requests(reach)
    audit.record_rows(
        session,
        now,
        actor,
        "request.denied",
        "request",
        AccessRequest.id,
        before={"status": RequestStatus.PENDING},
        after={"status": RequestStatus.DENIED},
        detail={"directive_id": directive_id, "reason": reason},
        where=pending,
    )
    session.exec(  # type: ignore[call-overload]
        update(RequestStep)
        .where(
            RequestStep.status == StepStatus.PENDING,
            col(RequestStep.request_id).in_(select(AccessRequest.id).where(pending)),
        )
        .values(status=StepStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    session.exec(  # type: ignore[call-overload]
        update(AccessRequest)
        .where(pending)
        .values(
            status=RequestStatus.DENIED,
            outcome_reason=reason,
            directive_id=directive_id,
            decided_by=STOPPED_BY,
            decided_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


# -- lifting -------------------------------------------------------------------------------------------


def release_grants(session: Session, directive_id: int, now: datetime, actor: str) -> tuple[int, int]:
    """Close this directive's suspensions. Grants no other directive holds, and not yet expired, become
    active again. Returns (grants reinstated, grants still suspended under other directives)."""
    mine = select(GrantSuspension.grant_id).where(
        GrantSuspension.directive_id == directive_id, col(GrantSuspension.released_at).is_(None)
    )
    other = aliased(GrantSuspension)
    # Another directive, or another reason of the entitlement rule (a GrantHold), still holds it.
    held_elsewhere = or_(
        col(AccessGrant.id).in_(
            select(other.grant_id).where(other.directive_id != directive_id, col(other.released_at).is_(None))
        ),
        col(AccessGrant.id).in_(select(GrantHold.grant_id).where(col(GrantHold.released_at).is_(None))),
    )
    suspended_here = and_(AccessGrant.status == GrantStatus.SUSPENDED, col(AccessGrant.id).in_(mine))
    comes_back = and_(suspended_here, col(AccessGrant.expires_at) > now, ~held_elsewhere)
    reinstated = session.exec(select(func.count()).where(comes_back)).one()
    still = session.exec(select(func.count()).where(suspended_here, held_elsewhere)).one()
    audit.record_rows(
        session,
        now,
        actor,
        "grant.reinstated",
        "grant",
        AccessGrant.id,
        before={"status": GrantStatus.SUSPENDED},
        after={"status": GrantStatus.ACTIVE},
        detail={"directive_id": directive_id},
        where=comes_back,
    )
    webhooks.grant_events(
        session, GRANT_REINSTATED, comes_back, now=now, actor=actor, data={"directive_id": directive_id}
    )
    # One UPDATE closes the suspensions and marks those that give their grant back: each row is
    # rewritten once, in place (no index covers either column, see GrantSuspension).
    session.exec(  # type: ignore[call-overload]
        update(GrantSuspension)
        .where(GrantSuspension.directive_id == directive_id, col(GrantSuspension.released_at).is_(None))
        .values(
            released_at=now,
            reinstated=col(GrantSuspension.grant_id).in_(select(AccessGrant.id).where(comes_back)),
        )
        .execution_options(synchronize_session=False)
    )
    given_back = select(GrantSuspension.grant_id).where(
        GrantSuspension.directive_id == directive_id,
        GrantSuspension.released_at == now,
        col(GrantSuspension.reinstated),
    )
    session.exec(  # type: ignore[call-overload]
        update(AccessGrant)
        .where(AccessGrant.status == GrantStatus.SUSPENDED, col(AccessGrant.id).in_(given_back))
        .values(status=GrantStatus.ACTIVE, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(reinstated), int(still)
