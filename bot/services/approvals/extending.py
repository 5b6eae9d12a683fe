"""Carrying out an approved extension: the same grant's end moves (bot/services/extensions.py files the
request and warns before grants end)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from bot.domain.extensions import extended_end
from bot.domain.status import GrantStatus
from bot.domain.webhooks import GRANT_EXTENDED
from bot.notify import outbox
from bot.services.context import Context
from bot.store import audit, webhooks
from bot.store import grant_warnings as warnings
from bot.store import requests as queries
from bot.store.locks import directive_barrier
from bot.store.tables import AccessGrant, AccessRequest


def extend_grant(ctx: Context, session: Session, request: AccessRequest) -> AccessGrant | str:
    """Carry out an approved extension within the caller's transaction: the grant's end moves by the
    duration asked, from its current end, never past the model's maximum from now; its warnings start
    again; audited as `grant.extended`, with a webhook event. Returns the grant, or why it cannot be
    extended any more (it ended or was suspended while the request waited)."""
    directive_barrier(session, exclusive=False)
    grant = queries.lock_grant(session, request.extends_grant_id or 0)
    now = ctx.clock()
    model = ctx.catalog.model(request.model)
    if grant is None or grant.user_id != request.requester_id or model is None:
        return f"G{request.extends_grant_id} is not a grant of the requester's."
    if grant.status != GrantStatus.ACTIVE or grant.expires_at <= now:
        state = "ended" if grant.status != GrantStatus.SUSPENDED else "was suspended"
        return f"G{grant.id} {state} before the extension was approved."
    before = grant.expires_at
    after = extended_end(before, timedelta(seconds=request.duration_seconds), now, model)
    if after <= before:
        return f"G{grant.id} already runs to the longest {model.name} allows, so it cannot be extended."
    grant.expires_at = after
    grant.updated_at = now
    session.add(grant)
    warnings.forget_warnings(session, grant.id or 0)
    audit.record(
        session, actor=audit.SYSTEM, action="grant.extended", subject_type="grant", subject_id=grant.id or 0,
        before={"expires_at": before.isoformat()}, after={"expires_at": grant.expires_at.isoformat()},
        detail={"request_id": request.id},
    )  # fmt: skip
    webhooks.grant_events(
        session, GRANT_EXTENDED, AccessGrant.id == grant.id, now=now, actor=audit.SYSTEM,
        data={"request_id": request.id, "previous_expires_at": before.isoformat()},
    )  # fmt: skip
    outbox.refresh_homes(session, [grant.user_id])
    return grant
