"""Who may handle directives: the access-admin role, or a person at the command line."""

from __future__ import annotations

from bot.services import permissions
from bot.services.context import Context


def require_admin(ctx: Context, actor: str, attempted: str) -> None:
    """Refuse (bot.services.context.Refusal, the attempt audited) unless `actor` holds the access-admin
    role. People at the command line (`cli:…`) are trusted: they hold the database credentials already.
    `attempted` completes "Only people with the … role can …"."""
    if actor.startswith("cli:"):
        return
    permissions.require_admin(
        ctx, actor, attempted, action="directive.refused", subject_type="directive", subject=attempted
    )
