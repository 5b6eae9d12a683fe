"""Break-glass: for a model whose models.yaml allows it (`break_glass`: the roles that may, and for how
long at most), `/access breakglass <model> <reason>` grants at once, announces it to the policy's
`break_glass_channel` and to the access admins, and opens a review that an access admin completes after
the fact (keep: the grant stays; revoke: it ends, with the reviewer's reason). It skips approvals, never
the entitlement rule: anyone an embargo, `us_persons_only`, a directive or a missing fact would refuse
is refused, with the reason (bot/domain/entitlement.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain.entitlement import describe, exempting_licences, refusal_reasons
from bot.domain.licences import utc_day
from bot.domain.status import HELD_GRANT_STATUSES, GrantStatus, RequestStatus
from bot.domain.webhooks import GRANT_ACTIVATED
from bot.notify import outbox
from bot.present.break_glass import announcement, review_message
from bot.services import approvals, permissions
from bot.services.context import Context, Refusal
from bot.services.grants import end_grant
from bot.services.restrictions import restrictions_for
from bot.store import audit, webhooks
from bot.store import break_glass as store
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.entitlement import load_standing
from bot.store.licences import link_grant
from bot.store.locks import directive_barrier
from bot.store.tables import AccessGrant, BreakGlass

KEEP, REVOKE = "approved", "denied"


@dataclass(frozen=True)
class Used:
    """Break-glass access given: the use on record and its grant."""

    use: BreakGlass
    grant: AccessGrant


def use_break_glass(ctx: Context, *, user_id: str, model_slug: str, reason: str) -> Used:
    """Grant `model_slug` to `user_id` at once for the model's break-glass maximum, announced and put up
    for review. Raises Refusal (nothing granted) when the model does not allow it, the person holds
    none of its roles (audited), the reason is missing, they hold the model already (also when two
    commands race: the database keeps one grant), or the entitlement rule refuses them (with its
    reason). A pending request of theirs for the model is cancelled: the grant supersedes it."""
    try:
        return _use(ctx, user_id=user_id, model_slug=model_slug, reason=reason)
    except IntegrityError:
        with ctx.read() as session:
            existing = queries.existing_for(session, user_id, model_slug.strip().lower())
        raise Refusal(f"You already hold G{existing.grant_id} for that model.") from None


def _use(ctx: Context, *, user_id: str, model_slug: str, reason: str) -> Used:
    """use_break_glass, but for a racing duplicate, which the database refuses (IntegrityError)."""
    catalog = ctx.catalog
    model = catalog.model(model_slug)
    rule = model.break_glass if model else None
    if model is None or rule is None:
        raise Refusal(f"{model.name if model else repr(model_slug)} does not allow break-glass access.")
    reason = reason.strip()
    minimum = catalog.policy.justification_min_chars
    if len(reason) < minimum:
        raise Refusal(f"Say what the emergency is, in at least {minimum} characters: the admins review it.")
    with ctx.read() as session:
        allowed = not people.roles_of(session, user_id).isdisjoint(rule.roles)
    if not allowed:
        message = f"Only holders of {', '.join(rule.roles)} may use break-glass access to {model.name}."
        permissions.record_refused_attempt(ctx, user_id, "breakglass.refused", "model", model.slug, message)
        raise Refusal(message, title="Not allowed")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        now = ctx.clock()
        existing = queries.existing_for(session, user_id, model.slug)
        if existing.grant_id is not None:
            raise Refusal(f"You already hold G{existing.grant_id} for {model.name}.")
        standing = load_standing(session, user_id)
        rules = [r.rule for r in restrictions_for(session, model, now)]
        reasons = refusal_reasons(
            standing, model, embargoed=catalog.policy.embargoed_countries, directives=rules, on=utc_day(now),
        )  # fmt: skip
        if reasons:
            why = "; ".join(describe(r, model.name) for r in reasons)
            raise Refusal(f"Break-glass access cannot be given: {why}.", title="Not allowed")
        if existing.request_id is not None:
            pending = queries.lock_request(session, existing.request_id)
            if pending is not None and pending.status == RequestStatus.PENDING:
                note = "Superseded by break-glass access."
                approvals.stop_request(
                    ctx,
                    session,
                    pending,
                    RequestStatus.CANCELLED,
                    reason=note,
                    actor=user_id,
                    closing_note=note,
                )
        grant = AccessGrant(
            user_id=user_id, model=model.slug, status=GrantStatus.ACTIVE, starts_at=now,
            expires_at=now + rule.max_duration, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(grant)
        session.flush()
        # Under a require-licence directive the grant depends on the licences that let its holder past
        # it, as an approved request's grant does: revoking or lapsing one suspends it.
        licensed = exempting_licences(standing, model, rules, utc_day(now))
        link_grant(session, grant.id or 0, [licence.licence_id for licence in licensed])
        use = store.add(session, grant, reason, now)
        audit.record(
            session, actor=user_id, action="grant.created", subject_type="grant", subject_id=grant.id or 0,
            after={"status": GrantStatus.ACTIVE, "user_id": user_id, "model": model.slug, "request_id": None},
            detail={"expires_at": grant.expires_at.isoformat(), "break_glass": use.id, "reason": reason},
        )  # fmt: skip
        webhooks.grant_events(
            session, GRANT_ACTIVATED, AccessGrant.id == grant.id, now=now, actor=user_id,
            data={"break_glass": use.id},
        )  # fmt: skip
        _announce(ctx, session, use, grant)
        outbox.refresh_homes(session, [user_id])
        uow.commit()
    return Used(use, grant)


def review(ctx: Context, *, reviewer: str, use_id: int, keep: bool, reason: str | None = None) -> BreakGlass:
    """An access admin (not the person who used it) completes the review: keep (the grant stays) or
    revoke (the grant ends now, with `reason`, which is required). Every admin's review message is
    updated. Raises Refusal for anyone else, a missing reason, or a review already completed the other
    way (the same verdict again answers as done)."""
    permissions.require_admin(
        ctx, reviewer, "review break-glass access", action="breakglass.review_refused",
        subject_type="break_glass", subject=use_id,
    )  # fmt: skip
    reason = (reason or "").strip() or None
    if not keep and not reason:
        raise Refusal("Say why the access is revoked: its holder is told.")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=False)
        use = store.lock(session, use_id)
        if use is None:
            raise Refusal(f"There is no break-glass use B{use_id}.")
        if use.user_id == reviewer:
            raise Refusal("Someone else must review your own break-glass use.")
        verdict = KEEP if keep else REVOKE
        if use.review != "pending":
            if use.review == verdict:
                return use
            raise Refusal(f"B{use_id} was already reviewed ({use.review}) by {use.reviewed_by}.")
        now = ctx.clock()
        use.review, use.reviewed_by, use.reviewed_at, use.review_reason = verdict, reviewer, now, reason
        session.add(use)
        audit.record(
            session, actor=reviewer, action=f"breakglass.{verdict}", subject_type="break_glass",
            subject_id=use_id, after={"review": verdict}, detail={"reason": reason} if reason else None,
        )  # fmt: skip
        grant = queries.lock_grant(session, use.grant_id)
        if not keep and grant is not None and grant.status in HELD_GRANT_STATUSES:
            end_grant(
                ctx, session, grant, GrantStatus.REVOKED, actor=reviewer,
                reason=f"Break-glass use reviewed and revoked: {reason}", notify=True,
            )  # fmt: skip
        _refresh_reviews(ctx, session, use, grant)
        uow.commit()
    return use


def _announce(ctx: Context, session: Session, use: BreakGlass, grant: AccessGrant) -> None:
    """The channel's announcement, and each access admin's review message (with Keep and Revoke)."""
    channel = ctx.catalog.policy.break_glass_channel
    if channel:
        outbox.post(session, channel, announcement(ctx.catalog, use, grant))
    admins = [a for a in people.holders_of_role(session, ctx.catalog.policy.admin_role) if a != use.user_id]
    for admin in admins:
        outbox.post(
            session,
            admin,
            review_message(ctx.catalog, use, grant),
            group_key=store.group_of(use),
            flush=False,
        )
    session.flush()
    outbox.refresh_homes(session, admins)


def _refresh_reviews(ctx: Context, session: Session, use: BreakGlass, grant: AccessGrant | None) -> None:
    """Every admin's review message says how the review ended (no buttons)."""
    posts = store.review_posts(session, use)
    for post in posts:
        outbox.update(session, post, review_message(ctx.catalog, use, grant))
    outbox.refresh_homes(session, [post.address for post in posts])
