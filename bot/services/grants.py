"""Ending grants: revocation by an admin, relinquishing by the holder, and expiry on time."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.status import HELD_GRANT_STATUSES, GrantStatus, RequestStatus
from bot.domain.webhooks import GRANT_EXPIRED, GRANT_REVOKED
from bot.notify import outbox
from bot.present.replies import Notice, Person, Screen
from bot.present.rows import grant_data, model_name
from bot.services import approvals, permissions
from bot.services.context import Context, Outcome, Refusal
from bot.store import audit, webhooks
from bot.store import requests as queries
from bot.store.locks import directive_barrier
from bot.store.tables import AccessGrant

MAX_REASON = 3000


def end_grant(
    ctx: Context, session: Session, grant: AccessGrant, status: str, *, actor: str, reason: str, notify: bool
) -> None:
    """End a held grant (`status`: revoked or expired) within the caller's transaction, which has it
    locked: audited as grant.<status> with the reason, suspensions released, a waiting extension
    cancelled, webhook receivers told, and (with `notify`) its holder told by DM."""
    now = ctx.clock()
    before = {"status": grant.status}
    grant.status = status
    grant.ended_at = now
    grant.ended_by = actor
    grant.end_reason = reason
    grant.updated_at = now
    session.add(grant)
    queries.release_suspensions_of(session, grant.id or 0, now)
    _stop_extension_of(ctx, session, grant, status, actor)
    audit.record(
        session,
        actor=actor,
        action=f"grant.{status}",
        subject_type="grant",
        subject_id=grant.id or 0,
        before=before,
        after={"status": status},
        detail={"reason": reason},
    )
    event = GRANT_REVOKED if status == GrantStatus.REVOKED else GRANT_EXPIRED
    webhooks.grant_events(
        session, event, AccessGrant.id == grant.id, now=now, actor=actor, data={"reason": reason}
    )
    if notify:
        outbox.post(session, grant.user_id, Screen("grant_update", {"grant": grant_data(ctx.catalog, grant)}))
    outbox.refresh_homes(session, [grant.user_id])


def _stop_extension_of(ctx: Context, session: Session, grant: AccessGrant, status: str, actor: str) -> None:
    """A request waiting to extend the grant has nothing left to extend: it is cancelled, and its
    approvers' copies say why (so nobody is reminded of it, and its holder may ask afresh)."""
    pending = queries.pending_extension_of(session, grant.id or 0)
    if pending is None:
        return
    if status == GrantStatus.EXPIRED:
        ended = "expired"
    elif actor == grant.user_id:  # relinquish_grant: nobody revoked it
        ended = "was given up by its holder"
    else:
        ended = "was revoked"
    why = f"G{grant.id} {ended}, so there is nothing to extend."
    approvals.stop_request(
        ctx, session, pending, RequestStatus.CANCELLED, reason=why, actor=actor, closing_note=why
    )


def revoke_grant(ctx: Context, *, admin_id: str, grant_id: int, reason: str) -> Outcome:
    reason = reason.strip()
    permissions.require_admin(
        ctx, admin_id, "revoke grants", action="grant.revoke_refused", subject_type="grant", subject=grant_id
    )
    if not reason:
        raise Refusal(
            "Say why you are revoking it: `/access revoke G12 <reason>`. The holder will see the reason."
        )
    if len(reason) > MAX_REASON:
        raise Refusal(f"The reason is too long ({len(reason):,} characters); the limit is {MAX_REASON:,}.")
    with ctx.uow() as uow:
        directive_barrier(uow.session, exclusive=False)
        grant = queries.lock_grant(uow.session, grant_id)
        if grant is None:
            raise Refusal(f"There is no grant G{grant_id}.")
        if grant.status not in HELD_GRANT_STATUSES:
            raise Refusal(f"G{grant_id} is already {grant.status}.")
        end_grant(ctx, uow.session, grant, GrantStatus.REVOKED, actor=admin_id, reason=reason, notify=True)
        uow.commit()
    return Outcome(
        Notice(
            "Revoked {grant} ({model}, held by {holder}).",
            tone="success",
            values={
                "grant": f"G{grant_id}",
                "model": model_name(ctx.catalog, grant.model),
                "holder": Person(grant.user_id),
            },
        ),
        grant_id,
        GrantStatus.REVOKED,
    )


def relinquish_grant(ctx: Context, *, holder_id: str, grant_id: int) -> Outcome:
    with ctx.uow() as uow:
        directive_barrier(uow.session, exclusive=False)
        grant = queries.lock_grant(uow.session, grant_id)
        if grant is None or grant.user_id != holder_id:
            raise Refusal(f"You hold no grant G{grant_id}. `/access status` lists yours.")
        if grant.status not in HELD_GRANT_STATUSES:
            raise Refusal(f"G{grant_id} is already {grant.status}.")
        end_grant(
            ctx,
            uow.session,
            grant,
            GrantStatus.REVOKED,
            actor=holder_id,
            reason="Relinquished by the holder.",
            notify=False,
        )
        uow.commit()
    name = model_name(ctx.catalog, grant.model)
    return Outcome(
        Notice(f"You gave up G{grant_id} ({name}).", tone="success"), grant_id, GrantStatus.REVOKED
    )


def expire_due_grants(ctx: Context, *, limit: int = 1000) -> int:
    """Grants past their end expire, and their holders are told. Claims rows with SKIP LOCKED so that
    several servers never expire (and announce) the same grant twice."""
    now = ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        due = queries.claim_due_grants(session, now, limit)
        for grant in due:
            end_grant(
                ctx,
                session,
                grant,
                GrantStatus.EXPIRED,
                actor=audit.SYSTEM,
                reason="Reached its end time.",
                notify=True,
            )
        uow.commit()
    return len(due)
