"""Delegation of approval duties: which duties a delegation covers, and whether a delegation asked for is
acceptable. Pure: no database, no Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.catalog import MANAGER

# The longest a delegation may last: long leave, not a permanent hand-over (change the directory's
# roles for that).
MAX_DELEGATION = timedelta(days=180)


class DelegationError(ValueError):
    """A delegation that cannot be made; the message says why, in plain words."""


@dataclass(frozen=True)
class Duty:
    """What an approver is asked to do at a step: as the step's own approvers (`approvers`: a role or
    `manager`), or as an access admin (`via_admin`)."""

    approvers: str
    via_admin: bool


def covers(role: str | None, duty: Duty, admin_role: str) -> bool:
    """Whether a delegation of `role` (None: every duty) covers `duty`: the step's role, `manager` for
    a manager step, or the admin role for a step asked of access admins."""
    if role is None:
        return True
    if duty.via_admin:
        return role == admin_role
    return role == duty.approvers


def check_delegation(
    *,
    delegator_id: str,
    delegate_id: str,
    role: str | None,
    delegator_roles: set[str],
    delegate_known: bool,
    ends_at: datetime,
    now: datetime,
) -> None:
    """Raises DelegationError unless `delegator_id` may hand `role` (None: every duty; a role they hold,
    or `manager`) to `delegate_id` (in the directory, someone else) until `ends_at` (in the future,
    within MAX_DELEGATION)."""
    if delegate_id == delegator_id:
        raise DelegationError("You cannot delegate to yourself.")
    if not delegate_known:
        raise DelegationError(
            "The delegate is not in the AccessBot directory (or has left), so they cannot approve."
        )
    if role is not None and role != MANAGER and role not in delegator_roles:
        raise DelegationError(f"You do not hold the {role} role, so you cannot delegate it.")
    if ends_at <= now:
        raise DelegationError("The end of a delegation must be in the future.")
    if ends_at - now > MAX_DELEGATION:
        raise DelegationError(
            f"A delegation lasts at most {MAX_DELEGATION.days} days; for longer, ask your access admins "
            "to change the directory's roles."
        )
