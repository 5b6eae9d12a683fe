"""A directive as the CLI's `--json`, the audit trail and reports record it."""

from __future__ import annotations

from typing import Any

from bot.store.tables import Directive


def directive_record(directive: Directive, models: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The stable JSON shape of a directive for `accessbot directive list --json` (snake_case keys; times
    in ISO 8601, null until they happen)."""
    return {
        "id": directive.id,
        "reference": directive.reference,
        "title": directive.title,
        "authority": directive.authority,
        "status": directive.status,
        "models": list(models),
        "population": directive.population,
        "action": directive.action,
        "effective_at": directive.effective_at.isoformat(),
        "issued_by": directive.issued_by,
        "issued_at": directive.issued_at.isoformat() if directive.issued_at else None,
        "activated_at": directive.activated_at.isoformat() if directive.activated_at else None,
        "lifted_by": directive.lifted_by,
        "lifted_at": directive.lifted_at.isoformat() if directive.lifted_at else None,
    }
