"""Putting a directive in force: announce it, then suspend the covered grants and stop the covered
pending requests. One transaction (the caller's), set-based whatever the number of grants."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.directives import RESTRICTING, Draft
from bot.domain.status import DirectivePhase, DirectiveStatus, OutboxKind
from bot.notify import outbox
from bot.services.context import Context
from bot.services.directives.broadcast import broadcast
from bot.store import directive_effects as effects
from bot.store.directives import Reach, link_licensed_grants
from bot.store.tables import Directive


def actor_of(directive_id: int) -> str:
    """The audit trail's actor for what a directive does by itself: `directive:D<id>`."""
    return f"directive:D{directive_id}"


def put_in_force(ctx: Context, session: Session, directive: Directive, draft: Draft, now: datetime) -> None:
    """Make the directive active and apply it: its announcement, the suspensions and the stopped
    requests (with their audit events, and updates of every approver's copy), in `session`."""
    directive_id = directive.id or 0
    directive.status = DirectiveStatus.ACTIVE
    directive.activated_at = now
    session.add(directive)
    session.flush()
    # Tell people first: the set of people is measured before their grants and requests change.
    broadcast(ctx, session, directive, draft, DirectivePhase.ACTIVATION, now)
    if draft.action not in RESTRICTING:
        return
    actor = actor_of(directive_id)
    reach = Reach.of_draft(draft, now)
    effects.suspend_grants(session, directive_id, reach, now, actor, effective_at=directive.effective_at)
    # Grants a licence keeps outside its reach now depend on that licence.
    link_licensed_grants(session, reach)
    # Every approver's copy of a stopped request is updated (composed at send time, see
    # bot/notify/compose.py); chosen before the requests change, while they are still pending.
    outbox.queue_selected(
        session,
        OutboxKind.UPDATE,
        effects.approver_copies(reach),
        {"compose": "approval_copy"},
        now=now,
    )
    reason = f"Stopped by directive D{directive_id} ({directive.reference}): {directive.title}."
    effects.stop_requests(session, directive_id, reach, now, actor, reason)
