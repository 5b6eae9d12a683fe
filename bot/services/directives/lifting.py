"""Lifting a directive, or withdrawing a scheduled one before it takes effect."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.directives import REQUIRE_LICENCE
from bot.domain.status import DirectivePhase, DirectiveStatus
from bot.domain.webhooks import DIRECTIVE_LIFTED
from bot.services.context import Context, Refusal
from bot.services.directives.access import require_admin
from bot.services.directives.broadcast import broadcast
from bot.services.directives.effects import actor_of
from bot.services.directives.issuing import activate, is_due
from bot.services.recheck import rule_inputs
from bot.services.webhook_events import directive_event
from bot.store import audit
from bot.store import directive_effects as effects
from bot.store import directives as rows
from bot.store.locks import directive_barrier
from bot.store.recheck import link_licences
from bot.store.tables import Directive

MAX_REASON = 3000


@dataclass(frozen=True)
class Lifted:
    directive: Directive
    reinstated: int  # grants active again
    still_suspended: int  # grants other directives in force still hold


def lift(ctx: Context, *, actor: str, directive_id: int, reason: str | None = None) -> Lifted:
    """Lift a directive: grants it suspended come back unless they expired meanwhile or another
    directive in force still covers them; requests it stopped stay stopped. Everyone it touched is told.
    A scheduled directive is withdrawn: nothing changed yet, and the people it warned are told; one
    whose time has come took effect (see is_due) and is put in force first, then lifted.
    Raises Refusal when `actor` may not lift directives, the reason is too long, or there is no such
    directive in force or scheduled."""
    require_admin(ctx, actor, "lift directives")
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise Refusal(f"The reason is too long ({len(reason):,} characters); the limit is {MAX_REASON:,}.")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        directive = rows.lock_directive(session, directive_id)
        if directive is None or directive.status == DirectiveStatus.DRAFT:
            raise Refusal(f"There is no directive D{directive_id}.")
        if directive.status == DirectiveStatus.LIFTED:
            raise Refusal(f"D{directive_id} was already lifted.")
        now = ctx.clock()
        if is_due(directive, now):
            # Its time came before the scheduler applied it, and gateways and request policy have
            # enforced it since: it took effect, and the record says so before it is lifted.
            activate(ctx, session, directive, now)
        draft = rows.draft_of(session, directive)
        was_in_force = directive.status == DirectiveStatus.ACTIVE
        before = directive.status
        directive.status = DirectiveStatus.LIFTED
        directive.lifted_by = actor
        directive.lifted_at = now
        directive.lift_reason = reason
        directive.updated_at = now
        session.add(directive)
        reinstated = still = 0
        if was_in_force:
            reinstated, still = effects.release_grants(session, directive_id, now, actor_of(directive_id))
            if draft.action == REQUIRE_LICENCE:
                # Grants it held to licences depend on those only while a directive requires them.
                link_licences(session, rule_inputs(ctx, session), now)
        audit.record(
            session,
            actor=actor,
            action="directive.lifted",
            subject_type="directive",
            subject_id=directive_id,
            before={"status": before},
            after={"status": DirectiveStatus.LIFTED},
            detail={"reason": reason, "grants_reinstated": reinstated, "grants_still_suspended": still},
        )
        directive_event(session, DIRECTIVE_LIFTED, directive, draft.models, actor=actor)
        phase = DirectivePhase.LIFTING if was_in_force else DirectivePhase.WITHDRAWAL
        broadcast(ctx, session, directive, draft, phase, now)
        uow.commit()
    return Lifted(directive, reinstated, still)
