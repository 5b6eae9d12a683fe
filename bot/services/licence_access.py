"""Who may handle export licences: the export-compliance role or the access-admin role, checked on the
server every time (a form can outlive a role, and a button or a form's state is attacker-visible data).

A sibling of bot/services/permissions.py `require_admin`, which allows one role only.
"""

from __future__ import annotations

from bot.services.context import Context, Refusal
from bot.services.permissions import record_refused_attempt
from bot.store import directory as people

REFUSED_ACTION = "licence.refused"


def licence_roles(ctx: Context) -> tuple[str, str]:
    """The roles that may record, list and revoke licences: (export compliance, access admin)."""
    policy = ctx.catalog.policy
    return policy.compliance_role, policy.admin_role


def is_licence_officer(ctx: Context, user_id: str) -> bool:
    """Whether `user_id` holds the export-compliance or the access-admin role now."""
    with ctx.read() as session:
        return not people.roles_of(session, user_id).isdisjoint(licence_roles(ctx))


def require_licence_officer(
    ctx: Context,
    actor: str,
    attempted: str,
    *,
    action: str = REFUSED_ACTION,
    subject_type: str = "licence",
    subject: str | int = "",
) -> None:
    """Refuse (Refusal, the attempt audited as `action`) unless `actor` holds the export-compliance or
    the access-admin role. `attempted` completes "Only people with the … role can …". People at the
    command line (`cli:…`) are trusted: they hold the database credentials already."""
    if actor.startswith("cli:"):
        return
    if is_licence_officer(ctx, actor):
        return
    compliance, admin = licence_roles(ctx)
    message = f"Only people with the {compliance} or {admin} role can {attempted}. Nothing was changed."
    record_refused_attempt(ctx, actor, action, subject_type, subject or attempted, message)
    raise Refusal(message, title="Not allowed")
