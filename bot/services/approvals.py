"""The approval chain in motion: starting a step, recording a decision, keeping every copy of the
approval message up to date."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.domain.catalog import StepRule
from bot.domain.chain import APPROVE, DENY, StepTally, apply_decision, assign_approvers
from bot.domain.durations import format_duration
from bot.domain.people import Person
from bot.domain.policy import DENY as DENY_OUTCOME
from bot.domain.policy import (
    REFUSE,
    REVIEW,
    CheckResult,
    check_directives,
    check_embargo,
    check_model,
    check_us_person,
)
from bot.domain.text import parse_db_id
from bot.notify import outbox
from bot.render import escape_mrkdwn
from bot.services import permissions
from bot.services.context import Context, Outcome, Refusal
from bot.services.present import request_data, step_data
from bot.services.restrictions import restrictions_for
from bot.store import accounts, audit
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.locks import directive_barrier
from bot.store.tables import AccessGrant, AccessRequest, ApprovalTask, Decision, RequestStep

MAX_REASON = 3000
_POSITION = re.compile(r"[0-9]{1,3}", re.ASCII)  # a step's position in its chain (chains are short)
# Outcome.status of a repeated click: nothing changed, but the person should hear why.
UNCHANGED = "unchanged"


def parse_button_value(value: str | None) -> tuple[int, int]:
    """'<request_id>:<position>' from an Approve/Deny button (position counts from 0). The value is user
    data: only its shape is trusted here (ASCII digits within the database's range, bot/domain/text.py);
    every permission is checked again by decide(). Raises Refusal for anything else."""
    request_text, _, position_text = (value or "").partition(":")
    request_id = parse_db_id(request_text)
    if request_id is None or not _POSITION.fullmatch(position_text):
        raise Refusal("That button is not one of mine, so nothing was changed.")
    return request_id, int(position_text)


# -- starting a step -----------------------------------------------------------------------------------


def start_step(
    ctx: Context, session: Session, request: AccessRequest, position: int, requester: Person
) -> bool:
    """Make `position` the current step and ask its approvers. False when nobody can approve it: the
    request is then denied with the reason (a request never waits on nobody)."""
    now = ctx.clock()
    step = queries.step_at(session, request.id or 0, position)
    assert step is not None, "steps are created with the request"
    step.status = "pending"
    step.started_at = now
    request.current_step = position
    request.updated_at = now
    rule = StepRule(step.name, step.approvers, step.quorum)
    policy = ctx.catalog.policy
    if rule.is_manager:
        manager = people.person_by_email(session, requester.manager_email or "")
        candidates = [manager.slack_user_id] if manager else []
        missing = (
            "The manager on file is not in the directory."
            if requester.manager_email and not manager
            else "No manager is on file for the requester."
        )
    else:
        candidates = people.holders_of_role(session, rule.approvers)
        missing = f"Nobody holds the {rule.approvers} role."
    admins = people.holders_of_role(session, policy.admin_role)
    # Slack accepts DMs to deactivated accounts, so nobody would notice a step waiting on one.
    gone = accounts.deactivated(session, {*candidates, *admins})
    if candidates and set(candidates) <= gone:
        missing = "Slack reports that everyone this step would ask has a deactivated account."
    candidates = [c for c in candidates if c not in gone]
    admins = [a for a in admins if a not in gone]
    earlier = {d.approver_id for d in queries.decisions_of(session, request.id or 0)}
    assignment = assign_approvers(
        rule,
        candidates=candidates,
        admins=admins,
        excluded={request.requester_id, *earlier},
        missing_reason=missing,
    )
    step.routed_reason = assignment.routed_reason
    session.add(step)
    if not assignment.approvers:
        reason = (
            f"Nobody can approve step {position + 1} ({step.name}): {assignment.routed_reason} "
            f"and no access admin is available. Ask {policy.contact} to fix the directory, then ask again."
        )
        step.status = "cancelled"
        finish_request(ctx, session, request, "denied", reason=reason, actor=audit.SYSTEM)
        return False
    via_admin = set(assignment.approvers) - set(candidates)
    _ask(ctx, session, request, step, assignment.approvers, via_admin)
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="step.started",
        subject_type="request",
        subject_id=request.id or 0,
        after={"step": position + 1, "name": step.name, "approvers": list(assignment.approvers)},
        detail={"routed_reason": assignment.routed_reason} if assignment.routed_reason else None,
    )
    return True


def _ask(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    step: RequestStep,
    approvers: Sequence[str],
    via_admin: Collection[str],
) -> None:
    """Record who is asked to decide the step and DM each of them the request with its buttons."""
    tasks = [
        ApprovalTask(
            request_id=request.id or 0,
            position=step.position,
            approver_id=approver,
            via_admin=approver in via_admin,
        )
        for approver in approvers
    ]
    session.add_all(tasks)
    session.flush()
    decisions = queries.decisions_of(session, request.id or 0)
    for task in tasks:
        task.outbox_id = outbox.post(
            session,
            task.approver_id,
            approval_message(ctx, request, step, decisions, task),
            check_account=True,  # a deactivated approver is found out before the request waits on them
        ).id
        session.add(task)
    outbox.refresh_homes(session, [t.approver_id for t in tasks])


def approval_message(
    ctx: Context,
    request: AccessRequest,
    step: RequestStep,
    decisions: list[Decision],
    task: ApprovalTask,
    closing_note: str | None = None,
) -> dict[str, object]:
    """One approver's copy: buttons only while the step waits and this approver has not decided."""
    mine = next((d for d in decisions if d.approver_id == task.approver_id), None)
    open_for_me = request.status == "pending" and step.status == "pending" and mine is None
    return ctx.render(
        "approval_request",
        request=request_data(ctx.catalog, request),
        step=step_data(step, decisions),
        viewer=task.approver_id,
        via_admin=task.via_admin,
        my_decision=({"verdict": mine.verdict, "at": mine.decided_at} if mine else None),
        show_buttons=open_for_me,
        button_value=f"{request.id}:{step.position}",
        closing_note=closing_note,
    )


def refresh_step_messages(
    ctx: Context, session: Session, request: AccessRequest, position: int, closing_note: str | None = None
) -> None:
    """Update every approver's copy of this step's message in place."""
    step = queries.step_at(session, request.id or 0, position)
    if step is None:
        return
    decisions = queries.decisions_of(session, request.id or 0)
    originals = {
        t.id: t for t in queries.tasks_at(session, request.id or 0, position) if t.outbox_id is not None
    }
    if not originals:
        return
    posts = {
        row.id: row
        for row in session.exec(
            select(outbox.OutboxMessage).where(
                outbox.OutboxMessage.id.in_([t.outbox_id for t in originals.values()])  # type: ignore[union-attr]
            )
        )
    }
    for task in originals.values():
        post = posts.get(task.outbox_id)
        if post is not None:
            outbox.update(session, post, approval_message(ctx, request, step, decisions, task, closing_note))


# -- ending a request ---------------------------------------------------------------------------------


def finish_request(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    status: str,
    *,
    reason: str | None,
    actor: str,
    grant: AccessGrant | None = None,
    notify_requester: bool = True,
) -> None:
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
    outbox.refresh_homes(session, [request.requester_id, *queries.approvers_of(session, request.id or 0)])


def tell_requester(
    ctx: Context,
    session: Session,
    request: AccessRequest,
    event: str,
    *,
    grant: dict[str, object] | None = None,
    step: dict[str, object] | None = None,
    next_step: dict[str, object] | None = None,
) -> None:
    """DM the requester what just happened to their request (templates/request_update.json.j2)."""
    message = ctx.render(
        "request_update",
        event=event,
        request=request_data(ctx.catalog, request),
        grant=grant,
        step=step,
        next_step=next_step,
    )
    outbox.post(session, request.requester_id, message)


def _step_number(request: AccessRequest) -> int | None:
    return None if request.current_step is None else request.current_step + 1


def create_grant(ctx: Context, session: Session, request: AccessRequest) -> AccessGrant:
    now = ctx.clock()
    grant = AccessGrant(
        user_id=request.requester_id,
        model=request.model,
        request_id=request.id,
        status="active",
        starts_at=now,
        expires_at=now + timedelta(seconds=request.duration_seconds),
        created_at=now,
        updated_at=now,
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="grant.created",
        subject_type="grant",
        subject_id=grant.id or 0,
        after={"status": "active", "user_id": grant.user_id, "model": grant.model, "request_id": request.id},
        detail={"expires_at": grant.expires_at.isoformat()},
    )
    return grant


def expire_request(ctx: Context, session: Session, request: AccessRequest) -> None:
    """End a pending request that reached its deadline (`expires_at`) undecided; requester and approvers
    are told, and every approver's copy loses its buttons."""
    position = request.current_step
    if position is not None and (step := queries.step_at(session, request.id or 0, position)):
        step.status = "cancelled"
        session.add(step)
    finish_request(
        ctx, session, request, "expired", reason="No decision was made in time.", actor=audit.SYSTEM
    )
    if position is not None:
        refresh_step_messages(
            ctx, session, request, position, closing_note="This request expired without a decision."
        )


# -- deciding -----------------------------------------------------------------------------------------


class _PastDeadline(Exception):
    """The request reached its deadline before this decision: it expires instead of being decided."""


def decide(
    ctx: Context, *, request_id: int, position: int, approver_id: str, verdict: str, reason: str | None = None
) -> Outcome:
    """Record one approver's decision on one step. Safe against double clicks, Slack retries and two
    approvers at once: the request row is locked, and the database allows one decision per person."""
    if verdict not in (APPROVE, DENY):
        raise Refusal("That is not a decision I understand, so nothing was changed.")
    reason = (reason or "").strip() or None
    if verdict == DENY and not reason:
        raise Refusal("Please give a reason for denying: the requester will see it.")
    if reason and len(reason) > MAX_REASON:
        raise Refusal(f"The reason is too long ({len(reason):,} characters); the limit is {MAX_REASON:,}.")
    try:
        with ctx.uow() as uow:
            outcome = _decide(ctx, uow.session, request_id, position, approver_id, verdict, reason)
            uow.commit()
            return outcome
    except _PastDeadline:
        _expire_now(ctx, request_id)
        raise Refusal(
            f"R{request_id} expired before it was decided (requests wait "
            f"{_ttl_words(ctx)} at most), so nothing was approved or denied. "
            "The requester can ask again."
        ) from None
    except IntegrityError:
        # The unique (request, approver) decision row: a concurrent click by the same person won.
        return Outcome(ctx.notice(f"You have already decided on R{request_id}."), request_id, UNCHANGED)
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
    verdict: str,
    reason: str | None,
) -> Outcome:
    directive_barrier(session, exclusive=False)
    request = queries.lock_request(session, request_id)
    label = f"R{request_id}"
    # Say nothing about a request (not even whether it exists) to someone it never asked.
    if request is None or not queries.is_assigned(session, request_id, approver_id):
        raise Refusal(f"You are not an approver of {label}, so nothing was changed.", audited=True)
    # A click on a stale copy (an old message, an App Home not yet refreshed) hears what became of the
    # request, whatever this person did earlier.
    if request.status != "pending":
        raise Refusal(f"{label} is already {request.status}, so there is nothing left to decide.")
    earlier = next(
        (d for d in queries.decisions_of(session, request_id) if d.approver_id == approver_id), None
    )
    if earlier is not None:
        if earlier.position == position and earlier.verdict == verdict:
            word = "approved" if verdict == APPROVE else "denied"
            return Outcome(
                ctx.notice(f"You already {word} step {position + 1} of {label}."), request_id, UNCHANGED
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
    task = queries.task_for(session, request_id, position, approver_id)
    if task is None or approver_id == request.requester_id:
        raise Refusal(
            f"You are not an approver of step {position + 1} of {label}, so nothing was changed.",
            audited=True,
        )
    step = queries.step_at(session, request_id, position)
    assert step is not None
    requester = people.load_person(session, request.requester_id)
    _check_still_eligible(ctx, session, step, task, requester, label)

    tally = StepTally(quorum=step.quorum, approvals=queries.approvals_at(session, request_id, position))
    now = ctx.clock()
    session.add(
        Decision(
            request_id=request_id,
            position=position,
            approver_id=approver_id,
            verdict=verdict,
            reason=reason,
            decided_at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=approver_id,
        action="decision.recorded",
        subject_type="request",
        subject_id=request_id,
        after={"step": position + 1, "verdict": verdict},
        detail={"reason": reason} if reason else None,
    )
    effect = apply_decision(tally, verdict, position, request.step_count)
    if effect.step_done:
        step.status = effect.step_outcome or step.status
        step.decided_at = now
        session.add(step)
    if effect.request_outcome == "approved":
        blocked = _no_longer_allowed(ctx, session, request, requester)
        if blocked is not None:
            request.directive_id = blocked.directive_id
            finish_request(ctx, session, request, "denied", reason=blocked.reason, actor="policy")
            refresh_step_messages(ctx, session, request, position)
            why = escape_mrkdwn(blocked.reason)
            return Outcome(ctx.notice(f"You approved {label}, but it cannot be granted: {why}"), request_id)
        grant = create_grant(ctx, session, request)
        finish_request(ctx, session, request, "approved", reason=None, actor=approver_id, grant=grant)
        refresh_step_messages(ctx, session, request, position)
        return Outcome(ctx.notice(f"You approved {label}. Access granted as {f'G{grant.id}'}."), request_id)
    if effect.request_outcome == "denied":
        finish_request(ctx, session, request, "denied", reason=reason, actor=approver_id)
        refresh_step_messages(ctx, session, request, position)
        return Outcome(ctx.notice(f"You denied {label}. The requester has been told why."), request_id)
    if effect.next_position is not None:
        if requester is None:
            reason = "The requester is no longer in the directory."
            finish_request(ctx, session, request, "denied", reason=reason, actor=audit.SYSTEM)
        elif start_step(ctx, session, request, effect.next_position, requester):
            _tell_requester_step_done(ctx, session, request, step, effect.next_position)
        # After the next step has started, so that every copy says where the request is now.
        refresh_step_messages(ctx, session, request, position)
        return Outcome(ctx.notice(f"You approved step {position + 1} of {label}."), request_id)
    # A quorum step still waiting for more approvals.
    refresh_step_messages(ctx, session, request, position)
    return Outcome(
        ctx.notice(f"You approved step {position + 1} of {label}; it needs {step.quorum} approvals in all."),
        request_id,
    )


def _expire_now(ctx: Context, request_id: int) -> None:
    with ctx.uow() as uow:
        directive_barrier(uow.session, exclusive=False)
        request = queries.lock_request(uow.session, request_id)
        if request is not None and request.status == "pending":
            expire_request(ctx, uow.session, request)
            uow.commit()


def _ttl_words(ctx: Context) -> str:
    return format_duration(ctx.catalog.policy.request_ttl)


def _no_longer_allowed(
    ctx: Context, session: Session, request: AccessRequest, requester: Person | None
) -> CheckResult | None:
    """The facts may have changed while the request waited (a directive, a directory import, the model's
    status): check them again before granting. A fact that became unknown fails closed too, unless an
    export-compliance step already reviewed exactly that."""
    model = ctx.catalog.model(request.model)
    if requester is None or model is None:
        return CheckResult("directory", DENY_OUTCOME, "The requester is no longer in the directory.")
    reviewed = {r["check"] for r in request.policy_results if r["outcome"] == REVIEW}
    for result in (
        check_model(ctx.catalog, model.slug),
        check_directives(model, restrictions_for(session, requester, model, ctx.clock())),
        check_embargo(requester, ctx.catalog.policy.embargoed_countries),
        check_us_person(model, requester),
    ):
        if result.outcome in (DENY_OUTCOME, REFUSE):
            return result
        if result.outcome == REVIEW and result.check not in reviewed:
            return CheckResult(
                result.check,
                DENY_OUTCOME,
                f"The directory changed while the request waited. {result.reason} Please ask again.",
            )
    return None


def _check_still_eligible(
    ctx: Context,
    session: Session,
    step: RequestStep,
    task: ApprovalTask,
    requester: Person | None,
    label: str,
) -> None:
    """The directory may have changed since the step started: whoever decides must qualify *now*."""
    approver = task.approver_id
    if task.via_admin:
        ok = people.has_role(session, approver, ctx.catalog.policy.admin_role)
        why = f"you no longer hold the {ctx.catalog.policy.admin_role} role"
    elif step.approvers == "manager":
        manager = people.person_by_email(session, (requester.manager_email if requester else None) or "")
        ok = manager is not None and manager.slack_user_id == approver
        why = "you are no longer the requester's manager in the directory"
    else:
        ok = people.has_role(session, approver, step.approvers)
        why = f"you no longer hold the {step.approvers} role"
    if not ok:
        raise Refusal(f"You cannot decide {label}: {why}. Nothing was changed.", audited=True)


def _tell_requester_step_done(
    ctx: Context, session: Session, request: AccessRequest, step: RequestStep, next_position: int
) -> None:
    decisions = queries.decisions_of(session, request.id or 0)
    next_step = queries.step_at(session, request.id or 0, next_position)
    assert next_step is not None
    tell_requester(
        ctx,
        session,
        request,
        "step_approved",
        step=step_data(step, decisions),
        next_step=_waiting_on(session, next_step, decisions),
    )


def _waiting_on(session: Session, step: RequestStep, decisions: list[Decision]) -> dict[str, object]:
    data = step_data(step, decisions)
    data["waiting_on"] = [t.approver_id for t in queries.tasks_at(session, step.request_id, step.position)]
    return data


def waiting_on_data(session: Session, request: AccessRequest) -> dict[str, object] | None:
    """The current step of a pending request and who it waits on, for messages to the requester."""
    if request.status != "pending" or request.current_step is None:
        return None
    step = queries.step_at(session, request.id or 0, request.current_step)
    if step is None:
        return None
    return _waiting_on(session, step, queries.decisions_of(session, request.id or 0))


# -- requests that would otherwise wait on nobody -----------------------------------------------------

STRANDED = (
    "Nobody asked for this step can decide it any more (Slack reports their account deactivated or "
    "unreachable, or the directory no longer gives them the role), so it goes to the access admins."
)


def reroute_stranded(ctx: Context, *, limit: int = 50) -> int:
    """Scheduler job: a step whose approvers all became unreachable or unqualified goes to the access
    admins (or, if none can take it, the request is denied with the reason): a request never waits on
    nobody."""
    admin_role = ctx.catalog.policy.admin_role
    with ctx.read() as session:
        candidates = queries.stranded_requests(session, admin_role, limit)
    handled = 0
    for request_id in candidates:
        with ctx.uow() as uow:
            session = uow.session
            directive_barrier(session, exclusive=False)
            request = queries.lock_request(session, request_id)
            if request is None or not queries.stranded_requests(session, admin_role, 1, request_id):
                continue  # decided or rerouted meanwhile
            _reroute(ctx, session, request)
            uow.commit()
            handled += 1
    return handled


def _reroute(ctx: Context, session: Session, request: AccessRequest) -> None:
    position = request.current_step or 0
    step = queries.step_at(session, request.id or 0, position)
    assert step is not None
    decisions = queries.decisions_of(session, request.id or 0)
    asked = {t.approver_id for t in queries.tasks_at(session, request.id or 0, position)}
    excluded = asked | {d.approver_id for d in decisions} | {request.requester_id}
    admins = sorted(set(people.holders_of_role(session, ctx.catalog.policy.admin_role)) - excluded)
    admins = [a for a in admins if a not in accounts.deactivated(session, admins)]
    still_needed = step.quorum - queries.approvals_at(session, request.id or 0, position)
    if len(admins) < still_needed:
        step.status = "cancelled"
        session.add(step)
        reason = (
            f"Nobody who can approve step {position + 1} ({step.name}) can be reached. "
            f"Ask {ctx.catalog.policy.contact} to fix the directory, then ask again."
        )
        finish_request(ctx, session, request, "denied", reason=reason, actor=audit.SYSTEM)
        return
    step.routed_reason = STRANDED
    session.add(step)
    _ask(ctx, session, request, step, admins, via_admin=admins)
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="step.rerouted",
        subject_type="request",
        subject_id=request.id or 0,
        after={"step": position + 1, "approvers": admins},
        detail={"reason": STRANDED},
    )
    tell_requester(
        ctx, session, request, "rerouted", next_step={**step_data(step, decisions), "waiting_on": admins}
    )
