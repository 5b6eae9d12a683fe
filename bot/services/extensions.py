"""Expiry warnings and Extend: the holder of a grant is warned before it ends (policy `expiry_warnings`,
per model in models.yaml) with an Extend button, or told why it cannot be extended; an extension is a
request that runs an approval chain (models.yaml `extend_chain`, default the model's chain), checked by
the policy like any request, and its approval moves the same grant's end without a gap.

The rules are bot/domain/extensions.py; the warnings on record, bot/store/grant_warnings.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlmodel import Session

from bot.domain.durations import approximate_duration, compact_duration, format_duration
from bot.domain.extensions import GrantFacts, due_warning, extension_blocker
from bot.domain.status import GrantStatus
from bot.notify import outbox
from bot.present.replies import Screen
from bot.present.rows import grant_data
from bot.services import requests
from bot.services.context import Context, Outcome, Refusal
from bot.store import audit
from bot.store import grant_warnings as warnings
from bot.store import requests as queries
from bot.store.holds import held_by
from bot.store.tables import AccessGrant

WARN_BATCH = 500


def facts_of(session: Session, grant: AccessGrant) -> GrantFacts:
    """What decides whether `grant` can be extended, read from the store."""
    existing = queries.existing_for(session, grant.user_id, grant.model)
    holds = (
        held_by(session, [grant.id or 0]).get(grant.id or 0, [])
        if grant.status == GrantStatus.SUSPENDED
        else []
    )
    return GrantFacts(
        grant_id=grant.id or 0,
        status=grant.status,
        starts_at=grant.starts_at,
        expires_at=grant.expires_at,
        held_by=tuple(holds),
        pending_request_id=existing.request_id,
    )


def blocker_of(ctx: Context, session: Session, grant: AccessGrant) -> str | None:
    """Why `grant` cannot be extended now, or None (see extension_blocker)."""
    return extension_blocker(ctx.catalog.model(grant.model), facts_of(session, grant), ctx.clock())


def warn_expiring(ctx: Context, *, limit: int = WARN_BATCH) -> int:
    """Queue the expiry warnings due: a DM to each holder whose grant reached a lead time of its model,
    with its end and an Extend button, or why it cannot be extended. Once per grant and lead time (a
    warning missed while the bot was down is not sent after a later one); none for a grant no longer
    than the lead time. A scheduler job; returns how many warnings were queued."""
    catalog, now = ctx.catalog, ctx.clock()
    leads_of = {slug: catalog.expiry_warnings_for(model) for slug, model in catalog.models.items()}
    models_by_lead: dict[timedelta, list[str]] = defaultdict(list)
    for slug, leads in leads_of.items():
        for lead in leads:
            models_by_lead[lead].append(slug)
    queued = 0
    with ctx.uow() as uow:
        session = uow.session
        due = warnings.claim_expiring(session, now, models_by_lead, limit)
        if not due:
            return 0
        warned = warnings.warned_leads(session, [g.id or 0 for g in due])
        for grant in due:
            leads = leads_of.get(grant.model, ())
            done = warned.get(grant.id or 0, set())
            lead = due_warning(grant.starts_at, grant.expires_at, leads, tuple(done), now)
            # Every lead reached is settled now: the one sent, longer ones it makes moot, and those the
            # grant is too short for.
            warnings.record_warned(
                session,
                grant.id or 0,
                [x for x in leads if grant.expires_at - x <= now and x not in done],
                now,
            )
            if lead is None:
                continue
            outbox.post(
                session,
                grant.user_id,
                Screen(
                    "expiry_warning",
                    {
                        "grant": grant_data(catalog, grant),
                        # The time actually left (a warning due at 3 days may go out later, or after
                        # an extension that leaves less).
                        "lead": approximate_duration(grant.expires_at - now),
                        "blocker": blocker_of(ctx, session, grant),
                    },
                ),
            )
            audit.record(
                session, actor=audit.SYSTEM, action="grant.expiry_warned", subject_type="grant",
                subject_id=grant.id or 0, detail={"lead_seconds": int(lead.total_seconds())},
            )  # fmt: skip
            queued += 1
        uow.commit()
    return queued


def _extendable(ctx: Context, holder_id: str, grant_id: int) -> AccessGrant:
    """The holder's grant, when it can be extended now. Raises Refusal saying why not (not theirs, or
    extension_blocker's reason)."""
    with ctx.read() as session:
        grant = session.get(AccessGrant, grant_id)
        if grant is None or grant.user_id != holder_id:
            raise Refusal(f"You hold no grant G{grant_id}. `/access status` lists yours.")
        blocker = blocker_of(ctx, session, grant)
    if blocker is not None:
        raise Refusal(blocker, title="Cannot be extended")
    return grant


def extension_form(ctx: Context, holder_id: str, grant_id: int) -> Screen:
    """The Extend form for the holder's grant (templates/extend_modal.json.j2): its model, end, and the
    durations the model offers. Raises Refusal when it is not theirs or cannot be extended, saying why."""
    grant = _extendable(ctx, holder_id, grant_id)
    model = ctx.catalog.model(grant.model)
    assert model is not None  # extension_blocker refuses a model no longer in the catalog
    return Screen(
        "extend_modal",
        {
            "grant": grant_data(ctx.catalog, grant),
            "durations": [
                {"value": compact_duration(int(d.total_seconds())), "label": format_duration(d)}
                for d in ctx.catalog.durations_for(model)
            ],
            "default": compact_duration(int(model.default_duration.total_seconds())),
            "justification_max": ctx.catalog.policy.justification_max_chars,
        },
    )


def submit_extension(
    ctx: Context, *, holder_id: str, grant_id: int, duration: timedelta | None, justification: str
) -> Outcome:
    """File a request to extend the holder's grant by `duration` (None: the model's default), checked
    like any request; approval moves the grant's end (bot/services/approvals/extending.py). Raises
    Refusal when nothing is filed (not their grant, cannot be extended, bad input)."""
    grant = _extendable(ctx, holder_id, grant_id)
    return requests.submit_request(
        ctx,
        requester_id=holder_id,
        model_slug=grant.model,
        duration=duration,
        justification=justification,
        extends=grant_id,
    )
