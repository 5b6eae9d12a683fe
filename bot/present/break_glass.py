"""Break-glass use as Slack shows it: the channel's announcement and each access admin's review message."""

from __future__ import annotations

from typing import Any

from bot.domain.catalog import Catalog
from bot.present.replies import Screen
from bot.present.rows import model_name
from bot.store.tables import AccessGrant, BreakGlass


def use_data(catalog: Catalog, use: BreakGlass, grant: AccessGrant | None) -> dict[str, Any]:
    """Template data of a use: who, which model, why, when, until when, and its review so far."""
    return {
        "id": use.id,
        "label": f"B{use.id}",
        "user": use.user_id,
        "model": use.model,
        "model_name": model_name(catalog, use.model),
        "reason": use.reason,
        "used_at": use.used_at,
        "grant": f"G{use.grant_id}",
        "expires_at": grant.expires_at if grant else None,
        "review": use.review,
        "reviewed_by": use.reviewed_by,
        "reviewed_at": use.reviewed_at,
        "review_reason": use.review_reason,
    }


def announcement(catalog: Catalog, use: BreakGlass, grant: AccessGrant) -> Screen:
    """The post to the policy's break_glass_channel (templates/break_glass.json.j2)."""
    return Screen("break_glass", {"use": use_data(catalog, use, grant), "review": False})


def review_message(catalog: Catalog, use: BreakGlass, grant: AccessGrant | None) -> Screen:
    """An access admin's copy: Keep and Revoke while the review is pending, then its outcome."""
    return Screen("break_glass", {"use": use_data(catalog, use, grant), "review": True})
