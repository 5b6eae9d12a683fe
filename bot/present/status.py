"""What one person sees of their own state (`/access status`, the App Home) and the model catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.domain.catalog import AVAILABLE, Catalog
from bot.domain.directives import catalog_status
from bot.domain.durations import approximate_duration, compact_duration, format_duration
from bot.domain.entitlement import Reason, describe
from bot.domain.extensions import GrantFacts, extension_blocker
from bot.domain.status import HELD_GRANT_STATUSES, GrantStatus, RequestStatus
from bot.present import Presenter
from bot.present.approvals import waiting_on_data
from bot.present.break_glass import use_data
from bot.present.delegations import delegation_rows
from bot.present.rows import grant_data, model_name, request_data
from bot.store import break_glass as break_glass_store
from bot.store import delegations as delegation_store
from bot.store import directory as people
from bot.store import holds as hold_state
from bot.store import requests as queries
from bot.store.directives import in_force
from bot.store.tables import AccessGrant


def help_data(catalog: Catalog, *, is_admin: bool, handles_licences: bool = False) -> dict[str, Any]:
    """`/access help`: whether to show the admins' part and the `/licence` line (export compliance and
    admins), and an example request that works as typed: an open model (any model when none is open)
    and its default duration, which it always allows."""
    open_models = sorted(slug for slug, m in catalog.models.items() if m.status == AVAILABLE)
    slug = next(iter(open_models or sorted(catalog.models)), None)
    model = catalog.model(slug) if slug else None
    return {
        "is_admin": is_admin,
        "handles_licences": handles_licences,
        "example_model": slug or "model-name",
        "example_duration": compact_duration(int(model.default_duration.total_seconds())) if model else "7d",
    }


def model_statuses(session: Session, catalog: Catalog, now: datetime) -> dict[str, str]:
    """Every model's status as people see it in the catalog (in one query). Requests are checked against
    the configured status and, separately, against each directive, so that a denial can cite it."""
    active = [f for _, f in in_force(session, now)]
    return {slug: catalog_status(slug, m.status, active) for slug, m in catalog.models.items()}


def catalog_entries(ctx: Presenter, session: Session) -> list[dict[str, Any]]:
    """Every model of the catalog, by name, as the model menus and `/access models` show it: status
    now, durations offered (`value` in compact form, `label` in words) and the approval chain."""
    catalog = ctx.catalog
    statuses = model_statuses(session, catalog, ctx.clock())
    entries = []
    for model in sorted(catalog.models.values(), key=lambda m: m.name.lower()):
        chain = catalog.chain_for(model)
        entries.append(
            {
                "slug": model.slug,
                "name": model.name,
                "provider": model.provider,
                "description": model.description,
                "status": statuses[model.slug],
                "default_duration": format_duration(model.default_duration),
                "max_duration": format_duration(model.max_duration),
                "durations": [
                    {"value": compact_duration(int(d.total_seconds())), "label": format_duration(d)}
                    for d in catalog.durations_for(model)
                ],
                "us_persons_only": model.us_persons_only,
                "chain": [step.name for step in chain.steps],
            }
        )
    return entries


def status_data(ctx: Presenter, session: Session, user_id: str) -> dict[str, Any]:
    """What `/access status` and the App Home show one person."""
    grants = queries.grants_of(session, user_id, HELD_GRANT_STATUSES)
    pending = queries.requests_of(session, user_id, [RequestStatus.PENDING])
    waiting = queries.waiting_on(session, user_id)
    holds = hold_state.open_holds(session, [g.id or 0 for g in grants if g.status == GrantStatus.SUSPENDED])
    waiting_for = {r.model: r.id for r in pending}
    now = ctx.clock()
    return {
        "user": user_id,
        "in_directory": people.is_present(session, user_id),
        "grants": [
            {
                **grant_data(ctx.catalog, g),
                "held_by": _held_by(ctx.catalog, g, holds),
                # Why Extend is not offered (bot/domain/extensions.py); None: it is.
                "extend_blocker": extension_blocker(
                    ctx.catalog.model(g.model),
                    GrantFacts(g.id or 0, g.status, g.starts_at, g.expires_at, (), waiting_for.get(g.model)),
                    now,
                ),
            }
            for g in grants
        ],
        "requests": [
            {**request_data(ctx.catalog, r), "waiting_on": waiting_on_data(session, r)} for r in pending
        ],
        "approvals": [
            {
                **request_data(ctx.catalog, r),
                "step": {
                    "number": s.position + 1,
                    "name": s.name,
                    # How long the step has waited (App Home shows it, oldest first in the DMs).
                    "waiting": approximate_duration(now - s.started_at) if s.started_at else None,
                },
                "on_behalf_of": t.on_behalf_of,  # asked as this approver's delegate
            }
            for r, s, t in waiting
        ],
    }


def _held_by(catalog: Catalog, grant: AccessGrant, holds: dict[int, list[Reason]]) -> list[str]:
    """What holds a suspended grant, in the holder's words (bot/domain/entitlement.py describe)."""
    name = model_name(catalog, grant.model)
    return [describe(reason, name) for reason in holds.get(grant.id or 0, [])]


HOME_BREAK_GLASS = 5  # break-glass uses an admin's App Home shows


def home_data(ctx: Presenter, session: Session, user_id: str) -> dict[str, Any]:
    """Template data of one person's App Home: status_data, the delegations in effect they made or
    received, the catalog, whether they are an admin (the directive buttons), and for admins the latest
    break-glass uses."""
    data = status_data(ctx, session, user_id)
    data["delegations"] = delegation_rows(user_id, delegation_store.of_person(session, user_id, ctx.clock()))
    data["catalog"] = catalog_entries(ctx, session)
    data["is_admin"] = people.has_role(session, user_id, ctx.catalog.policy.admin_role)
    # Admins review break-glass use: the latest few, with Keep and Revoke while pending.
    uses = break_glass_store.recent(session, HOME_BREAK_GLASS) if data["is_admin"] else []
    grants = {g.id: g for g in queries.grants_by_ids(session, [u.grant_id for u in uses])}
    data["break_glass"] = [use_data(ctx.catalog, u, grants.get(u.grant_id)) for u in uses]
    return data
