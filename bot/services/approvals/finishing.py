"""Ending a request: its final status and audit record, the grant an approval creates, the requester
told, and the expiry of a request nobody decided in time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.domain.entitlement import CONFIRMABLE, exempting_licences
from bot.domain.licences import Licence, utc_day
from bot.domain.policy import REVIEW
from bot.domain.status import GrantStatus, RequestStatus, StepStatus
from bot.domain.webhooks import GRANT_ACTIVATED
from bot.notify import outbox
from bot.services.approvals.notices import refresh_step_messages, tell_requester
from bot.services.context import Context
from bot.services.restrictions import restrictions_for
from bot.store import approvals as tasks
from bot.store import audit, webhooks
from bot.store import requests as queries
from bot.store.entitlement import load_standing
from bot.store.licences import link_grant
from bot.store.locks import directive_barrier
from bot.store.tables import AccessGrant, AccessRequest

EXPIRED_REASON = "No decision was made in time."
EXPIRED_NOTE = "This request expired without a decision."


def finish_request(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    status: RequestStatus,
    *,
    reason: str | None,
    actor: str,
    grant: AccessGrant | None = None,
    notify_requester: bool = True,
) -> None:
    """Give a pending request its final `status` within the caller's transaction: audited as
    `request.<status>` by `actor`, the requester told (unless `notify_requester` is False) with the
    `grant` it ended in, and every App Home that shows it refreshed."""
    now = ctx.clock()
    before = {"status": request.status, "step": _step_number(request)}
    request.status = status
    request.outcome_reason = reason
    request.decided_at = now
    request.decided_by = actor
    request.updated_at = now
    session.add(request)
    audit.record(
        session,
        actor=actor,
        action=f"request.{status}",
        subject_type="request",
        subject_id=request.id or 0,
        before=before,
        after={"status": status, "grant_id": grant.id if grant else None},
        detail={"reason": reason} if reason else None,
    )
    if notify_requester:
        grant_data = {"label": f"G{grant.id}", "expires_at": grant.expires_at} if grant else None
        tell_requester(ctx, session, request, status, grant=grant_data)
    # Every App Home that shows this request (the requester's, and each approver's list of requests
    # waiting on them) must stop offering buttons for it.
    outbox.refresh_homes(session, [request.requester_id, *tasks.approvers_of(session, request.id or 0)])


def _step_number(request: AccessRequest) -> int | None:
    return None if request.current_step is None else request.current_step + 1


def create_grant(ctx: Context, session: Session, request: AccessRequest) -> AccessGrant:
    """The active grant an approved request ends in, from now for the duration it asked; audited."""
    now = ctx.clock()
    grant = queries.add_grant(
        session, request, starts_at=now, expires_at=now + timedelta(seconds=request.duration_seconds)
    )
    # Facts export compliance confirmed while they were missing (the request's REVIEW checks, each
    # answered by an export-compliance step) stay confirmed for this grant's re-checks.
    confirmed = {r["check"] for r in request.policy_results if r.get("outcome") == REVIEW}
    queries.confirm_holds(session, grant.id or 0, [h for h in CONFIRMABLE if h.value in confirmed])
    licensed = _exempting_licences(ctx, session, request, now)
    link_grant(session, grant.id or 0, [licence.licence_id for licence in licensed])
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="grant.created",
        subject_type="grant",
        subject_id=grant.id or 0,
        after={
            "status": GrantStatus.ACTIVE,
            "user_id": grant.user_id,
            "model": grant.model,
            "request_id": request.id,
        },
        detail={
            "expires_at": grant.expires_at.isoformat(),
            **({"licences": [licence.licence_id for licence in licensed]} if licensed else {}),
        },
    )
    webhooks.grant_events(
        session, GRANT_ACTIVATED, AccessGrant.id == grant.id, now=now, actor=audit.SYSTEM,
        data={"request_id": request.id},
    )  # fmt: skip
    return grant


def _exempting_licences(
    ctx: Context, session: Session, request: AccessRequest, now: datetime
) -> tuple[Licence, ...]:
    """The licences that let the requester past a require-licence directive in force on the model:
    the ones the new grant depends on."""
    model = ctx.catalog.model(request.model)
    if model is None:
        return ()
    rules = [r.rule for r in restrictions_for(session, model, now)]
    return exempting_licences(load_standing(session, request.requester_id), model, rules, utc_day(now))


def expire_request(ctx: Context, session: Session, request: AccessRequest) -> None:
    """End a pending request that reached its deadline (`expires_at`) undecided, within the caller's
    transaction; requester and approvers are told, and every approver's copy loses its buttons."""
    stop_request(
        ctx, session, request, RequestStatus.EXPIRED, reason=EXPIRED_REASON, actor=audit.SYSTEM,
        closing_note=EXPIRED_NOTE,
    )  # fmt: skip


def stop_request(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    status: RequestStatus,
    *,
    reason: str,
    actor: str,
    closing_note: str,
    notify_requester: bool = True,
) -> None:
    """End a pending request before its chain is done, within the caller's transaction: its current
    step cancelled, its final `status` given as finish_request does, and every approver's copy of that
    step updated to say `closing_note` (and lose its buttons)."""
    position = request.current_step
    if position is not None and (step := queries.step_at(session, request.id or 0, position)):
        step.status = StepStatus.CANCELLED
        session.add(step)
    finish_request(
        ctx, session, request, status, reason=reason, actor=actor, notify_requester=notify_requester
    )
    if position is not None:
        refresh_step_messages(ctx, session, request, position, closing_note=closing_note)


def expire_if_pending(ctx: Context, request_id: int) -> bool:
    """Expire the request in a transaction of its own if it is still pending (whoever noticed its
    deadline first, the expiry sweep or a late decision, ends it). True when it was expired here."""
    with ctx.uow() as uow:
        directive_barrier(uow.session, exclusive=False)
        request = queries.lock_request(uow.session, request_id)
        if request is None or request.status != RequestStatus.PENDING:
            return False
        expire_request(ctx, uow.session, request)
        uow.commit()
        return True
