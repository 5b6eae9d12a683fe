"""What the approval chain tells people: the requester's updates, and every approver's copy of a step
kept up to date in place."""

from __future__ import annotations

from sqlmodel import Session

from bot.notify import outbox
from bot.present.approvals import approval_message, waiting_on
from bot.present.replies import Screen
from bot.present.rows import request_data, step_data
from bot.services.context import Context
from bot.store import approvals as tasks
from bot.store import requests as queries
from bot.store.tables import AccessRequest, RequestStep


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
    """DM the requester what just happened to their request (templates/request_update.json.j2): `event`
    is one of the template's events (filed, step_approved, rerouted, or the request's final status)."""
    message = Screen(
        "request_update",
        {
            "event": event,
            "request": request_data(ctx.catalog, request),
            "grant": grant,
            "step": step,
            "next_step": next_step,
        },
    )
    outbox.post(session, request.requester_id, message)


def tell_requester_step_done(
    ctx: Context, session: Session, request: AccessRequest, step: RequestStep, next_position: int
) -> None:
    """DM the requester that `step` was approved and who the step at `next_position` now waits on."""
    decisions = queries.decisions_of(session, request.id or 0)
    next_step = queries.step_at(session, request.id or 0, next_position)
    assert next_step is not None, "steps are created with the request"
    tell_requester(
        ctx,
        session,
        request,
        "step_approved",
        step=step_data(step, decisions),
        next_step=waiting_on(session, next_step, decisions),
    )


def refresh_step_messages(
    ctx: Context, session: Session, request: AccessRequest, position: int, closing_note: str | None = None
) -> None:
    """Update every approver's copy of the message for the step at `position` in place; `closing_note`
    says why the request ended, when it ended without a decision."""
    step = queries.step_at(session, request.id or 0, position)
    if step is None:
        return
    asked = [t for t in queries.tasks_at(session, request.id or 0, position) if t.outbox_id is not None]
    if not asked:
        return
    decisions = queries.decisions_of(session, request.id or 0)
    posts = tasks.task_posts(session, asked)
    for task in asked:
        post = posts.get(task.outbox_id or 0)
        if post is not None:
            outbox.update(session, post, approval_message(ctx, request, step, decisions, task, closing_note))
