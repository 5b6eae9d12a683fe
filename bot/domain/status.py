"""Every state and phase AccessBot records, as string enums.

They are `StrEnum`s so that the database, the audit trail and the CLI's `--json` keep the plain words
they have always held ("pending", "active", ...): a member compares equal to its value, and SQL written
against the column reads the same text.
"""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """An access request's state. Only PENDING can change; the others are final."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class StepStatus(StrEnum):
    """An approval step's state: WAITING until the steps before it are approved, then PENDING."""

    WAITING = "waiting"
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"


class Verdict(StrEnum):
    """What an approver decided."""

    APPROVE = "approve"
    DENY = "deny"


class GrantStatus(StrEnum):
    """A grant's state. ACTIVE and SUSPENDED hold the model (at most one such grant per person and
    model); EXPIRED and REVOKED are final."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"


HELD_GRANT_STATUSES = (GrantStatus.ACTIVE, GrantStatus.SUSPENDED)


class DirectiveStatus(StrEnum):
    """A directive's state: DRAFT while an admin reviews its impact, SCHEDULED until its effective time,
    ACTIVE while in force, LIFTED once lifted or withdrawn."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    LIFTED = "lifted"


class DirectivePhase(StrEnum):
    """Which announcement of a directive a notice belongs to: the warning that a scheduled directive
    will apply, its activation, its lifting, or the withdrawal of one that never took effect."""

    WARNING = "warning"
    ACTIVATION = "active"
    LIFTING = "lifted"
    WITHDRAWAL = "withdrawn"


class OutboxStatus(StrEnum):
    """A queued Slack message's delivery state."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """How a queued message reaches Slack: a new post, an update of an earlier post, a reply through
    a `response_url`, or an App Home view."""

    POST = "post"
    UPDATE = "update"
    RESPOND = "respond"
    HOME = "home"


class LicenceStatus(StrEnum):
    """An export licence's state: ACTIVE as recorded (in effect between its dates), REVOKED by export
    compliance or an admin, EXPIRED once its last day has passed. REVOKED and EXPIRED are final."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
