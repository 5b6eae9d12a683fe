"""The stable JSON shapes of rows for scripts (the CLI's `--json` and audit export). What people see in
Slack is built in bot/present/."""

from __future__ import annotations

from typing import Any

from bot.store.tables import AccessGrant, AccessRequest, AuditEvent


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
