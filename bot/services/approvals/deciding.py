"""Deciding a step: one approver's approval or denial, with quorum, safe against double clicks,
Slack's retries, replayed buttons and decisions that arrive after the request's deadline."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain.chain import DecisionEffect, StepTally, apply_decision
from bot.domain.durations import format_duration
from bot.domain.people import Person
from bot.domain.status import RequestStatus, Verdict
from bot.present.replies import Notice
from bot.services import permissions
from bot.services.approvals.eligibility import grant_blocker, require_still_qualified
from bot.services.approvals.extending import extend_grant
from bot.services.approvals.finishing import create_grant, expire_if_pending, finish_request
from bot.services.approvals.notices import refresh_step_messages, tell_requester_step_done
from bot.services.approvals.routing import start_step
from bot.services.context import Context, Outcome, Refusal
from bot.store import approvals as tasks
from bot.store import audit
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.locks import directive_barrier
from bot.store.tables import AccessRequest, ApprovalTask, RequestStep

MAX_REASON = 3000
# Outcome.status of a repeated click: nothing changed, but the person should hear why.
UNCHANGED = "unchanged"


class _PastDeadline(Exception):
    """The request reached its deadline before this decision: it expires instead of being decided."""


def decide(
    ctx: Context,
    *,
    request_id: int,
    position: int,
    approver_id: str,
    verdict: Verdict | str,
    reason: str | None = None,
) -> Outcome:
    """Record one approver's decision on the step at `position` (from 0) of a request, in one
    transaction. Safe against double clicks, Slack retries and two approvers at once: the request row is
    locked, and the database allows one decision per person. A repeat of the same decision answers
    with status UNCHANGED. Raises Refusal for an unknown verdict, a denial without a reason, a reason
    over MAX_REASON characters, a request past its deadline (which then expires), and anyone who may
    not decide this step now (audited)."""
    try:
        chosen = Verdict(verdict)
    except ValueError:
        raise Refusal("That is not a decision I understand, so nothing was changed.") from None
    reason = (reason or "").strip() or None
    if chosen == Verdict.DENY and not reason:
        raise Refusal("Please give a reason for denying: the requester will see it.")
    if reason and len(reason) > MAX_REASON:
        raise Refusal(f"The reason is too long ({len(reason):,} characters); the limit is {MAX_REASON:,}.")
    try:
        with ctx.uow() as uow:
            outcome = _decide(ctx, uow.session, request_id, position, approver_id, chosen, reason)
            uow.commit()
            return outcome
    except _PastDeadline:
        expire_if_pending(ctx, request_id)
        raise Refusal(
            f"R{request_id} expired before it was decided (requests wait "
            f"{format_duration(ctx.catalog.policy.request_ttl)} at most), so nothing was approved or "
            "denied. The requester can ask again."
        ) from None
    except IntegrityError:
        # The unique (request, approver) decision row: a concurrent click by the same person won.
        return Outcome(Notice(f"You have already decided on R{request_id}."), request_id, UNCHANGED)
    except Refusal as refusal:
        if refusal.audited:
            permissions.record_refused_attempt(
                ctx, approver_id, "decision.refused", "request", request_id, refusal.message
            )
        raise


def _decide(
    ctx: Context,
    session: Session,
    request_id: int,
    position: int,
    approver_id: str,
    verdict: Verdict,
    reason: str | None,
) -> Outcome:
    directive_barrier(session, exclusive=False)
    request = queries.lock_request(session, request_id)
    label = f"R{request_id}"
    # Say nothing about a request (not even whether it exists) to someone it never asked.
    if request is None or not tasks.is_assigned(session, request_id, approver_id):
        raise Refusal(f"You are not an approver of {label}, so nothing was changed.", audited=True)
    # A click on a stale copy (an old message, an App Home not yet refreshed) hears what became of the
    # request, whatever this person did earlier.
    if request.status != RequestStatus.PENDING:
        raise Refusal(f"{label} is already {request.status}, so there is nothing left to decide.")
    earlier = next(
        (d for d in queries.decisions_of(session, request_id) if d.approver_id == approver_id), None
    )
    if earlier is not None:
        if earlier.position == position and earlier.verdict == verdict:
            word = "approved" if verdict == Verdict.APPROVE else "denied"
            return Outcome(
                Notice(f"You already {word} step {position + 1} of {label}."), request_id, UNCHANGED
            )
        raise Refusal(
            f"You already decided step {earlier.position + 1} of {label}; "
            "one person cannot decide two steps of the same request."
        )
    # The expiry sweep runs every few seconds; a decision must not slip in between the deadline and it.
    if request.expires_at is not None and request.expires_at <= ctx.clock():
        raise _PastDeadline()
    if request.current_step != position:
        raise Refusal(
            f"Step {position + 1} of {label} has already been decided; "
            f"the request is now at step {(request.current_step or 0) + 1}."
        )
    task = tasks.task_for(session, request_id, position, approver_id)
    if task is None or approver_id == request.requester_id:
        raise Refusal(
            f"You are not an approver of step {position + 1} of {label}, so nothing was changed.",
            audited=True,
        )
    step = queries.step_at(session, request_id, position)
    assert step is not None, "steps are created with the request"
    requester = people.load_person(session, request.requester_id)
    require_still_qualified(ctx, session, step, task, requester, label)
    _require_own_slot(session, request_id, position, task, label)

    tally = StepTally(quorum=step.quorum, approvals=tasks.approvals_at(session, request_id, position))
    now = ctx.clock()
    tasks.add_decision(session, step, approver_id, verdict, reason, now)
    audit.record(
        session,
        actor=approver_id,
        action="decision.recorded",
        subject_type="request",
        subject_id=request_id,
        after={"step": position + 1, "verdict": verdict},
        detail={
            **({"reason": reason} if reason else {}),
            **({"on_behalf_of": task.on_behalf_of} if task.on_behalf_of else {}),
        }
        or None,
    )
    effect = apply_decision(tally, verdict, position, request.step_count)
    if effect.step_done:
        step.status = effect.step_outcome or step.status
        step.decided_at = now
        session.add(step)
    return _carry_out(ctx, session, request, step, requester, effect, approver_id, reason)


def _carry_out(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    step: RequestStep,
    requester: Person | None,
    effect: DecisionEffect,
    approver_id: str,
    reason: str | None,
) -> Outcome:
    """What the recorded decision does next: grant, deny, start the next step, or wait for the quorum.
    Every approver's copy of the step is refreshed last, so that it says where the request is now."""
    request_id = request.id or 0
    position = step.position
    label = f"R{request_id}"
    if effect.request_outcome == RequestStatus.APPROVED:
        blocked = grant_blocker(ctx, session, request, requester)
        if blocked is not None:
            request.directive_id = blocked.directive_id
            finish_request(ctx, session, request, RequestStatus.DENIED, reason=blocked.reason, actor="policy")
            refresh_step_messages(ctx, session, request, position)
            return Outcome(
                Notice(f"You approved {label}, but it cannot be granted: {blocked.reason}"), request_id
            )
        if request.extends_grant_id is not None:
            return _extend(ctx, session, request, position, approver_id)
        grant = create_grant(ctx, session, request)
        finish_request(
            ctx, session, request, RequestStatus.APPROVED, reason=None, actor=approver_id, grant=grant
        )
        refresh_step_messages(ctx, session, request, position)
        return Outcome(Notice(f"You approved {label}. Access granted as G{grant.id}."), request_id)
    if effect.request_outcome == RequestStatus.DENIED:
        finish_request(ctx, session, request, RequestStatus.DENIED, reason=reason, actor=approver_id)
        refresh_step_messages(ctx, session, request, position)
        return Outcome(Notice(f"You denied {label}. The requester has been told why."), request_id)
    if effect.next_position is not None:
        if requester is None:
            gone = "The requester is no longer in the directory."
            finish_request(ctx, session, request, RequestStatus.DENIED, reason=gone, actor=audit.SYSTEM)
        elif start_step(ctx, session, request, effect.next_position, requester):
            tell_requester_step_done(ctx, session, request, step, effect.next_position)
        refresh_step_messages(ctx, session, request, position)
        return Outcome(Notice(f"You approved step {position + 1} of {label}."), request_id)
    # A quorum step still waiting for more approvals.
    refresh_step_messages(ctx, session, request, position)
    return Outcome(
        Notice(f"You approved step {position + 1} of {label}; it needs {step.quorum} approvals in all."),
        request_id,
    )


def _extend(
    ctx: Context, session: Session, request: AccessRequest, position: int, approver_id: str
) -> Outcome:
    """The last approval of an extension: the grant's end moves, or the request is denied when the grant
    can no longer be extended (bot/services/extensions.py)."""
    label = f"R{request.id}"
    extended = extend_grant(ctx, session, request)
    if isinstance(extended, str):
        finish_request(ctx, session, request, RequestStatus.DENIED, reason=extended, actor="policy")
        refresh_step_messages(ctx, session, request, position)
        return Outcome(Notice(f"You approved {label}, but it cannot be carried out: {extended}"), request.id)
    finish_request(
        ctx, session, request, RequestStatus.APPROVED, reason=None, actor=approver_id, grant=extended
    )
    refresh_step_messages(ctx, session, request, position)
    return Outcome(Notice(f"You approved {label}. G{extended.id} is extended."), request.id)


def _require_own_slot(
    session: Session, request_id: int, position: int, task: ApprovalTask, label: str
) -> None:
    """An approver's authority decides once per request, whoever uses it: the approver, or one of their
    delegates. Whoever comes second is refused (two delegates of one approver never make a quorum, and
    an approver whose delegate decided an earlier step does not decide a later one)."""
    authority = task.on_behalf_of or task.approver_id
    if authority not in tasks.decided_for(session, request_id):
        return
    if task.on_behalf_of is None:
        raise Refusal(f"Your approval of {label} was already given on your behalf, so nothing was changed.")
    who = people.name_of(session, authority)
    raise Refusal(f"{who}'s approval of {label} was already given, so nothing was changed.")
