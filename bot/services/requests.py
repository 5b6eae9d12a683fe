"""Filing, cancelling and expiring access requests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain import policy as checks
from bot.domain.chain import plan_steps
from bot.domain.licences import utc_day
from bot.domain.policy import Application
from bot.domain.status import RequestStatus, StepStatus
from bot.notify import outbox
from bot.present.approvals import waiting_on_data
from bot.present.replies import Notice, Screen
from bot.present.rows import model_name, request_data
from bot.services import approvals
from bot.services.context import Context, Outcome, Refusal
from bot.services.restrictions import restrictions_for
from bot.store import audit
from bot.store import requests as queries
from bot.store.entitlement import load_standing
from bot.store.locks import directive_barrier
from bot.store.tables import AccessRequest, RequestStep


def submit_request(
    ctx: Context,
    *,
    requester_id: str,
    model_slug: str,
    duration: timedelta | None,
    justification: str,
    extends: int | None = None,
) -> Outcome:
    """Check and file a request: for a new grant, or with `extends` to extend that grant of the
    requester's by `duration` (bot/services/extensions.py). Raises Refusal when nothing is filed (bad
    input, duplicates, not in the directory); a policy denial is filed and denied, and said so."""
    slug = model_slug.strip().lower()
    try:
        with ctx.uow() as uow:
            outcome = _submit(ctx, uow.session, requester_id, slug, duration, justification.strip(), extends)
            uow.commit()
            return outcome
    except IntegrityError:
        # Two submissions raced past the duplicate check; the partial unique index kept one.
        with ctx.read() as session:
            existing = queries.existing_for(session, requester_id, slug)
        model = ctx.catalog.model(slug)
        if model is not None and (existing.request_id or existing.grant_id):
            raise Refusal(
                checks.check_duplicate(model, existing, extends).reason, title="Request not filed"
            ) from None
        raise


_FIELD_OF_CHECK = {"duration": "duration", "justification": "justification"}


def _submit(
    ctx: Context,
    session: Session,
    requester_id: str,
    slug: str,
    duration: timedelta | None,
    justification: str,
    extends: int | None,
) -> Outcome:
    catalog = ctx.catalog
    # Take turns with a directive being put into force (bot/store/locks.py): the request is checked
    # against it, or stopped by it, never neither.
    directive_barrier(session, exclusive=False)
    standing = load_standing(session, requester_id)
    person = standing.person
    model = catalog.model(slug)
    evaluation = checks.evaluate(
        catalog,
        Application(
            model_slug=slug,
            requester=person,
            duration=duration,
            justification=justification,
            existing=queries.existing_for(session, requester_id, slug) if model else checks.Existing(),
            restrictions=restrictions_for(session, model, ctx.clock()) if model else (),
            departed=standing.departed,
            deactivated=standing.deactivated,
            licences=standing.licences,
            on=utc_day(ctx.clock()),
            extending=extends,
        ),
    )
    refusal = evaluation.refusal
    if refusal is not None:
        raise Refusal(refusal.reason, title="Request not filed", field=_FIELD_OF_CHECK.get(refusal.check))
    assert model is not None and person is not None and evaluation.duration is not None
    now = ctx.clock()
    request = AccessRequest(
        requester_id=requester_id,
        model=model.slug,
        duration_seconds=int(evaluation.duration.total_seconds()),
        justification=justification,
        status=RequestStatus.PENDING,
        policy_results=[r.as_dict() for r in evaluation.results],
        created_at=now,
        updated_at=now,
        extends_grant_id=extends,
    )
    denial = evaluation.denial
    if denial is not None:
        request.step_count = 0
        session.add(request)
        session.flush()
        _audit_submitted(session, request)
        request.directive_id = denial.directive_id
        approvals.finish_request(
            ctx, session, request, RequestStatus.DENIED, reason=denial.reason, actor="policy"
        )
        return Outcome(
            Screen("request_result", {"request": request_data(catalog, request), "waiting_on": None}),
            request.id,
            RequestStatus.DENIED,
        )
    chain = catalog.extend_chain_for(model) if extends is not None else catalog.chain_for(model)
    planned = plan_steps(chain, evaluation.reviews, catalog.policy.compliance_role)
    request.step_count = len(planned)
    request.expires_at = now + catalog.policy.request_ttl
    session.add(request)
    session.flush()
    _audit_submitted(session, request)
    for position, planned_step in enumerate(planned):
        session.add(
            RequestStep(
                request_id=request.id or 0,
                position=position,
                name=planned_step.rule.name,
                approvers=planned_step.rule.approvers,
                quorum=planned_step.rule.quorum,
                delegable=planned_step.rule.is_delegable(catalog.policy.compliance_role),
                note=planned_step.note,
                status=StepStatus.WAITING,
            )
        )
    session.flush()
    if approvals.start_step(ctx, session, request, 0, person):
        waiting = waiting_on_data(session, request)
        approvals.tell_requester(ctx, session, request, "filed", next_step=waiting)
        outbox.refresh_homes(session, [requester_id])
    else:
        waiting = None
    return Outcome(
        Screen("request_result", {"request": request_data(catalog, request), "waiting_on": waiting}),
        request.id,
        request.status,
    )


def _audit_submitted(session: Session, request: AccessRequest) -> None:
    audit.record(
        session,
        actor=request.requester_id,
        action="request.submitted",
        subject_type="request",
        subject_id=request.id or 0,
        after={
            "status": RequestStatus.PENDING,
            "model": request.model,
            "duration_seconds": request.duration_seconds,
            "steps": request.step_count,
            **({"extends_grant_id": request.extends_grant_id} if request.extends_grant_id else {}),
        },
        detail={"checks": request.policy_results},
    )


def cancel_request(ctx: Context, *, actor_id: str, request_id: int) -> Outcome:
    """The requester withdraws a pending request; every approver's copy says so."""
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        request = queries.lock_request(session, request_id)
        if request is None or request.requester_id != actor_id:
            # Same answer for "not yours" and "does not exist": ids are not secrets, but contents are.
            raise Refusal(f"You have no request R{request_id}. `/access status` lists yours.")
        if request.status != RequestStatus.PENDING:
            raise Refusal(
                f"R{request_id} is already {request.status}; only pending requests can be cancelled."
            )
        approvals.stop_request(
            ctx, session, request, RequestStatus.CANCELLED, reason="Cancelled by the requester.",
            actor=actor_id, closing_note="The requester cancelled this request.", notify_requester=False,
        )  # fmt: skip
        uow.commit()
    return Outcome(
        Notice(
            f"Cancelled R{request_id} ({model_name(ctx.catalog, request.model)}).",
            tone="success",
        ),
        request_id,
        RequestStatus.CANCELLED,
    )


def expire_stale_requests(ctx: Context, *, limit: int = 500) -> int:
    """Pending requests past their deadline expire; requester and approvers are told. Returns how many."""
    now = ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        stale = queries.claim_stale_requests(session, now, limit)
        for request in stale:
            approvals.expire_request(ctx, session, request)
        uow.commit()
    return len(stale)
