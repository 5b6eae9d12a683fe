"""A directive as messages show it (read one back with bot.store.directives.draft_of)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.domain.directives import EVERYONE, RESTRICTING, Draft
from bot.present import Presenter
from bot.present.rows import model_name
from bot.store.tables import Directive


def directive_data(ctx: Presenter, directive: Directive, draft: Draft) -> dict[str, Any]:
    """Template data for a directive. Nothing about any person: channel posts use it."""
    return {
        "id": directive.id,
        "label": f"D{directive.id}",
        "title": directive.title,
        "authority": directive.authority,
        "reference": directive.reference,
        "notice": directive.notice,
        "action": directive.action,
        "restricting": directive.action in RESTRICTING,
        "population": draft.population.describe(),
        "everyone": draft.population.kind == EVERYONE,
        "models": [model_name(ctx.catalog, m) for m in draft.models],
        "models_text": _names(model_name(ctx.catalog, m) for m in draft.models),
        "status": directive.status,
        "effective_at": directive.effective_at,
        "lifted_at": directive.lifted_at,
        "lift_reason": directive.lift_reason,
    }


def _names(names: Iterable[str], shown: int = 8) -> str:
    """'A, B and C', or the first few and how many more: lists in messages stay readable."""
    listed = list(names)
    if len(listed) > shown:
        return f"{', '.join(listed[:shown])} and {len(listed) - shown} more"
    return ", ".join(listed[:-1]) + f" and {listed[-1]}" if len(listed) > 1 else "".join(listed)
