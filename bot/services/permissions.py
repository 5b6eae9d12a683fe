"""Who may do the privileged things: the access-admin role, checked on the server every time."""

from __future__ import annotations

from bot.services.context import Context, Refusal
from bot.store import audit
from bot.store import directory as people


def require_admin(
    ctx: Context, actor: str, attempted: str, *, action: str, subject_type: str, subject: str | int
) -> None:
    """Refuse (and audit the attempt) unless `actor` holds the admin role. `attempted` completes
    "Only people with the … role can …"."""
    role = ctx.catalog.policy.admin_role
    with ctx.read() as session:
        allowed = people.has_role(session, actor, role)
    if not allowed:
        message = f"Only people with the {role} role can {attempted}. Nothing was changed."
        record_refused_attempt(ctx, actor, action, subject_type, subject, message)
        raise Refusal(message, title="Not allowed")


def record_refused_attempt(
    ctx: Context, actor: str, action: str, subject_type: str, subject_id: int | str, reason: str
) -> None:
    """Refused attempts at privileged actions are part of the record too (in their own transaction:
    the attempted change itself was rolled back)."""
    with ctx.uow() as uow:
        audit.record(
            uow.session,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail={"reason": reason},
        )
        uow.commit()


def roles_of(ctx: Context, user_id: str) -> set[str]:
    """Every role `user_id` holds now (one query), for a screen that depends on several of them."""
    with ctx.read() as session:
        return people.roles_of(session, user_id)
