"""Announcing a directive: one DM per affected person, their App Home, and each affected model's
announcement channels, queued in the outbox in the caller's transaction.

The DMs are written in one INSERT … SELECT whatever the number of people, each with a small payload
naming the directive and the phase; bot/notify/compose.py composes each person's notice when it is
sent, from what the directive did to them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.directives import USERS, Draft
from bot.domain.status import DirectivePhase, OutboxKind
from bot.notify import outbox
from bot.present.directives import directive_data
from bot.present.replies import Screen
from bot.services.context import Context
from bot.store import directive_notices as notices
from bot.store.directives import Reach, affected_people
from bot.store.tables import Directive


def broadcast(
    ctx: Context, session: Session, directive: Directive, draft: Draft, phase: DirectivePhase, now: datetime
) -> None:
    """Record the announcement of `phase` and queue it for every affected person (composed per person
    at send time) and for each affected model's announcement channels. A lifting speaks to the people
    the directive touched, a withdrawal to the people its advance warning went to; the other phases to
    the people it covers now."""
    directive_id = directive.id or 0
    group = notices.record_broadcast(session, directive_id, phase, now)
    people: notices.People
    if phase == DirectivePhase.LIFTING:
        people = notices.touched_people(directive_id)
    elif phase == DirectivePhase.WITHDRAWAL:
        people = notices.warned_people(directive_id)
    else:
        people = affected_people(Reach.of_draft(draft, now), directive_id)
    outbox.queue_selected(
        session,
        OutboxKind.POST,
        # Someone a `users:` population names may not exist at all; other populations come from grants
        # and requests.
        notices.notice_rows(people, ask_slack_about_strangers=draft.population.kind == USERS),
        {"compose": notices.NOTICE_COMPOSER, "directive_id": directive_id, "phase": phase},
        now=now,
        group_key=group,
    )
    # Their App Home tabs, for those who have one, show the change too (rendered when sent).
    outbox.queue_selected(
        session, OutboxKind.HOME, notices.home_rows(people), {"compose": "home"}, now=now, group_key=group
    )
    data = directive_data(ctx, directive, draft)
    channels = sorted(
        {c for slug in draft.models if (m := ctx.catalog.model(slug)) for c in m.announce_channels}
    )
    for channel in channels:
        message = Screen(
            "directive_channel", {"directive": data, "phase": phase, "contact": ctx.catalog.policy.contact}
        )
        outbox.post(session, channel, message, group_key=group)
