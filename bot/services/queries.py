"""Read-only views of the state for people (Slack) and scripts (CLI): no transaction, no side effects."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.domain.catalog import Catalog
from bot.domain.durations import compact_duration, format_duration
from bot.services.approvals import waiting_on_data
from bot.services.context import Context
from bot.services.present import grant_data, request_data
from bot.services.restrictions import model_statuses
from bot.store import directory as people
from bot.store import requests as queries
from bot.store.tables import HELD_GRANT_STATUSES, AccessGrant, AccessRequest, AuditEvent


def catalog_entries(ctx: Context, session: Session) -> list[dict[str, Any]]:
    catalog: Catalog = ctx.catalog
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


def status_data(ctx: Context, session: Session, user_id: str) -> dict[str, Any]:
    """What `/access status` and the App Home show one person."""
    grants = queries.grants_of(session, user_id, HELD_GRANT_STATUSES)
    pending = queries.requests_of(session, user_id, ["pending"])
    waiting = queries.waiting_on(session, user_id)
    return {
        "user": user_id,
        "in_directory": people.load_person(session, user_id) is not None,
        "grants": [grant_data(ctx.catalog, g) for g in grants],
        "requests": [
            {**request_data(ctx.catalog, r), "waiting_on": waiting_on_data(session, r)} for r in pending
        ],
        "approvals": [
            {**request_data(ctx.catalog, r), "step": {"number": s.position + 1, "name": s.name}}
            for r, s in waiting
        ],
    }


def home_data(ctx: Context, session: Session, user_id: str) -> dict[str, Any]:
    data = status_data(ctx, session, user_id)
    data["catalog"] = catalog_entries(ctx, session)
    data["is_admin"] = people.has_role(session, user_id, ctx.catalog.policy.admin_role)
    return data


def request_record(request: AccessRequest) -> dict[str, Any]:
    """The stable JSON shape of a request for `accessbot requests list --json`."""
    return {
        "id": request.id,
        "slack_user_id": request.requester_id,
        "model": request.model,
        "status": request.status,
        "current_step": None
        if request.current_step is None or request.status != "pending"
        else request.current_step + 1,
        "step_count": request.step_count,
        "duration_seconds": request.duration_seconds,
        "reason": request.outcome_reason,
        "directive_id": request.directive_id,
        "created_at": request.created_at.isoformat(),
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "expires_at": request.expires_at.isoformat() if request.expires_at else None,
    }


def audit_record(event: AuditEvent) -> dict[str, Any]:
    """The stable JSON shape of an audit event for `accessbot audit export` (one JSONL line, or a CSV row
    in this column order)."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
        "detail": event.detail,
    }


def grant_record(grant: AccessGrant) -> dict[str, Any]:
    """The stable JSON shape of a grant for `accessbot grants list --json`."""
    return {
        "id": grant.id,
        "slack_user_id": grant.user_id,
        "model": grant.model,
        "status": grant.status,
        "request_id": grant.request_id,
        "created_at": grant.created_at.isoformat(),
        "starts_at": grant.starts_at.isoformat(),
        "expires_at": grant.expires_at.isoformat(),
        "ended_at": grant.ended_at.isoformat() if grant.ended_at else None,
        "ended_by": grant.ended_by,
        "end_reason": grant.end_reason,
    }
