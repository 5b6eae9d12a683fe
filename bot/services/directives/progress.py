"""The issuing admin's progress message: how the delivery of a directive's announcement is going,
posted when it is issued and updated in place by a scheduler job while the counts move.

What the message last showed is kept on the directive (`progress_reported`): the phase it follows, the
impact measured when it was issued or activated, the counts shown, and whether it is done.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.domain.directives import Draft
from bot.domain.status import DirectivePhase
from bot.notify import outbox
from bot.present.directives import directive_data
from bot.present.replies import Screen
from bot.services.context import Context
from bot.store import directive_notices as notices
from bot.store import directives as rows
from bot.store.tables import Directive


def delivery_counts(session: Session, directive_id: int, phase: DirectivePhase) -> dict[str, int]:
    """How the posts of one announcement stand: {"total", "sent", "failed", "pending"} (pending counts
    those being sent too)."""
    return notices.delivery_counts(session, directive_id, phase).as_dict()


def progress_message(
    ctx: Context,
    session: Session,
    directive: Directive,
    draft: Draft,
    phase: DirectivePhase,
    impact: dict[str, Any],
) -> Screen:
    """The progress message as it stands now."""
    directive_id = directive.id or 0
    counts = delivery_counts(session, directive_id, phase)
    failures = (
        [
            {"to": address, "error": error or "unknown"}
            for address, error in notices.delivery_failures(session, directive_id, phase)
        ]
        if counts["failed"]
        else []
    )
    return Screen(
        "directive_progress",
        {
            "directive": directive_data(ctx, directive, draft),
            "phase": phase,
            "impact": impact,
            "counts": counts,
            "failures": failures,
        },
    )


def start_progress(
    ctx: Context,
    session: Session,
    directive: Directive,
    draft: Draft,
    phase: DirectivePhase,
    impact: dict[str, Any],
    admin: str,
) -> None:
    """Post the progress message to `admin` (a Slack user id) and remember it on the directive."""
    message = progress_message(ctx, session, directive, draft, phase, impact)
    directive.progress_outbox_id = outbox.post(session, admin, message).id
    directive.progress_reported = {"phase": phase, "impact": impact}
    session.add(directive)


def follow_phase(directive: Directive, phase: DirectivePhase, impact: dict[str, Any]) -> None:
    """A scheduled directive took effect: its progress message now follows the activation."""
    if not directive.progress_outbox_id:
        return
    reported = dict(directive.progress_reported or {})
    reported.update(phase=phase, impact=impact, counts=None)
    directive.progress_reported = reported


def refresh_progress(ctx: Context) -> int:
    """Scheduler job: update each issuing admin's progress message when the counts have moved. Returns
    how many messages were updated. Each directive is claimed by one server at a time."""
    updated = 0
    with ctx.uow() as uow:
        session = uow.session
        for directive in rows.claim_reporting_directives(session):
            reported = dict(directive.progress_reported or {})
            if not reported.get("phase") or reported.get("done"):
                continue
            phase = DirectivePhase(reported["phase"])
            counts = delivery_counts(session, directive.id or 0, phase)
            if counts == reported.get("counts"):
                continue
            original = notices.progress_post(session, directive.progress_outbox_id or 0)
            if original is None:
                continue
            draft = rows.draft_of(session, directive)
            message = progress_message(ctx, session, directive, draft, phase, reported.get("impact") or {})
            outbox.update(session, original, message)
            reported["counts"] = counts
            # A warning's counts settle, but the message goes on to follow the activation.
            reported["done"] = counts["pending"] == 0 and phase == DirectivePhase.ACTIVATION
            directive.progress_reported = reported
            session.add(directive)
            updated += 1
        uow.commit()
    return updated
