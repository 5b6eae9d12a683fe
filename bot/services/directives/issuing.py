"""Issuing a directive, in force at once or scheduled, and the scheduler job that puts scheduled ones in
force when their time comes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from bot.domain.directives import Draft
from bot.domain.status import DirectivePhase, DirectiveStatus
from bot.domain.webhooks import DIRECTIVE_ACTIVATED, DIRECTIVE_ISSUED
from bot.present.directive_records import DirectiveRecord
from bot.services.context import Context, Refusal
from bot.services.directives.access import require_admin
from bot.services.directives.broadcast import broadcast
from bot.services.directives.effects import put_in_force
from bot.services.directives.impact import Impact, measure
from bot.services.directives.progress import follow_phase, start_progress
from bot.services.webhook_events import directive_event
from bot.store import audit
from bot.store import directives as rows
from bot.store.locks import directive_barrier
from bot.store.tables import Directive


@dataclass(frozen=True)
class Issued:
    directive: Directive
    impact: Impact
    # The announcement issuing started: a warning for a scheduled directive, else its activation.
    phase: DirectivePhase


def issue(
    ctx: Context,
    *,
    actor: str,
    draft: Draft | None = None,
    draft_id: int | None = None,
    progress_to: str | None = None,
) -> Issued:
    """Issue a directive, given as a checked `draft` or as the id of one saved by save_draft: in force
    now (applied in this transaction) or scheduled (people it will affect are warned now, and the
    scheduler applies it on time). `progress_to` is the admin (a Slack user id) who gets a message
    showing delivery progress, updated in place. Raises Refusal when `actor` may not issue directives or
    the draft is not theirs or was issued already; ValueError without a draft or a draft_id."""
    require_admin(ctx, actor, "issue directives")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        now = ctx.clock()
        if draft_id is not None:
            directive = rows.lock_directive(session, draft_id)
            if directive is None or directive.issued_by != actor:
                raise Refusal(f"There is no draft directive D{draft_id} of yours.")
            if directive.status != DirectiveStatus.DRAFT:
                raise Refusal(f"D{draft_id} was already issued ({directive.status}).")
            draft = rows.draft_of(session, directive)
            if draft.effective_at is not None and draft.effective_at <= now:
                draft = replace(draft, effective_at=None)
        elif draft is not None:
            directive = rows.add_directive(session, draft, actor, now, DirectiveStatus.DRAFT)
        else:
            raise ValueError("issue() needs a draft or a draft_id")
        impact = measure(ctx, session, draft)
        directive.issued_at = now
        directive.status = DirectiveStatus.SCHEDULED if draft.effective_at else DirectiveStatus.ACTIVE
        directive.effective_at = draft.effective_at or now
        directive.updated_at = now
        session.add(directive)
        audit.record(
            session,
            actor=actor,
            action="directive.issued",
            subject_type="directive",
            subject_id=directive.id or 0,
            after=DirectiveRecord.of(directive, draft.models).as_json(),
            detail={"impact": impact.as_dict()},
        )
        if directive.status == DirectiveStatus.SCHEDULED:
            phase = DirectivePhase.WARNING
            broadcast(ctx, session, directive, draft, phase, now)
        else:
            phase = DirectivePhase.ACTIVATION
            put_in_force(ctx, session, directive, draft, now)
        # After it is in force, so that the record says since when.
        directive_event(session, DIRECTIVE_ISSUED, directive, draft.models, actor=actor)
        if progress_to:
            start_progress(ctx, session, directive, draft, phase, impact.as_dict(), progress_to)
        uow.commit()
    return Issued(directive, impact, phase)


def activate_due(ctx: Context, *, limit: int = 10) -> int:
    """Scheduler job: scheduled directives whose time has come take effect, at most `limit` in one run.
    Returns how many did."""
    activated = 0
    for _ in range(limit):
        # Look before taking the exclusive barrier: every server runs this job, and the barrier makes
        # approvals wait.
        with ctx.read() as session:
            due = rows.due_directive_id(session, ctx.clock())
        if due is None:
            return activated
        with ctx.uow() as uow:
            session = uow.session
            directive_barrier(session, exclusive=True)
            now = ctx.clock()
            directive = rows.claim_due_directive(session, now)
            if directive is None:
                return activated
            activate(ctx, session, directive, now)
            uow.commit()
            activated += 1
    return activated


def is_due(directive: Directive, now: datetime) -> bool:
    """Whether a scheduled directive's time has come (gateways and request policy enforce it from then,
    rows.in_force, even before activate_due has applied it)."""
    effective_at = directive.effective_at
    return directive.status == DirectiveStatus.SCHEDULED and effective_at is not None and effective_at <= now


def activate(ctx: Context, session: Session, directive: Directive, now: datetime) -> None:
    """Put a scheduled directive whose time has come in force, in the caller's transaction (which holds
    the directive barrier exclusively and the directive's row): audited as `directive.activated` with
    its impact, its effects applied as of its effective time, receivers and the admin's progress told."""
    draft = rows.draft_of(session, directive)
    impact = measure(ctx, session, draft)
    directive.status = DirectiveStatus.ACTIVE
    directive.updated_at = now
    audit.record(
        session,
        actor=audit.SYSTEM,
        action="directive.activated",
        subject_type="directive",
        subject_id=directive.id or 0,
        before={"status": DirectiveStatus.SCHEDULED},
        after={"status": DirectiveStatus.ACTIVE},
        detail={"impact": impact.as_dict()},
    )
    put_in_force(ctx, session, directive, draft, now)
    directive_event(session, DIRECTIVE_ACTIVATED, directive, draft.models, actor=audit.SYSTEM)
    follow_phase(directive, DirectivePhase.ACTIVATION, impact.as_dict())
    session.add(directive)
