"""Webhook receivers and the events they may subscribe to, as plain data.

A receiver is an enforcement point or provisioner (a SCIM bridge, a vendor's admin API, a ticketing
system) that AccessBot tells about grants, licences and directives over HTTP, signed per the Standard
Webhooks specification. Receivers are configured in workflows/webhooks.yaml (bot/workflow_specs/webhooks.py);
their signing secrets are settings (bot/config.py), never in workflows/.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Grant events: each carries the grant as it is after the change, and its version.
GRANT_ACTIVATED = "grant.activated"
GRANT_SUSPENDED = "grant.suspended"
GRANT_REINSTATED = "grant.reinstated"
GRANT_REVOKED = "grant.revoked"
GRANT_EXPIRED = "grant.expired"
GRANT_EXTENDED = "grant.extended"  # an approved extension moved its end (only active grants are extended)
# Licence and directive events: each carries the licence's or directive's record after the change.
LICENCE_RECORDED = "licence.recorded"
LICENCE_UPDATED = "licence.updated"
LICENCE_REVOKED = "licence.revoked"
LICENCE_EXPIRED = "licence.expired"
DIRECTIVE_ISSUED = "directive.issued"
DIRECTIVE_ACTIVATED = "directive.activated"
DIRECTIVE_LIFTED = "directive.lifted"

EVENT_TYPES: tuple[str, ...] = (
    GRANT_ACTIVATED,
    GRANT_SUSPENDED,
    GRANT_REINSTATED,
    GRANT_REVOKED,
    GRANT_EXPIRED,
    GRANT_EXTENDED,
    LICENCE_RECORDED,
    LICENCE_UPDATED,
    LICENCE_REVOKED,
    LICENCE_EXPIRED,
    DIRECTIVE_ISSUED,
    DIRECTIVE_ACTIVATED,
    DIRECTIVE_LIFTED,
)
# What a receiver may write in `events:` besides a type: every event of a family, or every event.
FAMILIES: tuple[str, ...] = ("grant.*", "licence.*", "directive.*", "*")

RECEIVER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
SECRET_PREFIX = "whsec_"
# The Standard Webhooks specification asks for secrets of 24 to 64 random bytes.
SECRET_BYTES = (24, 64)


def secret_variable(receiver: str) -> str:
    """The setting that holds a receiver's signing secret: for `scim-bridge`,
    ACCESSBOT_WEBHOOK_SECRET_SCIM_BRIDGE."""
    return "ACCESSBOT_WEBHOOK_SECRET_" + receiver.upper().replace("-", "_")


def expand(patterns: Iterable[str]) -> frozenset[str]:
    """The event types that `patterns` (types, `grant.*`-style families or `*`) name."""
    chosen: set[str] = set()
    for pattern in patterns:
        if pattern == "*":
            chosen.update(EVENT_TYPES)
        elif pattern.endswith(".*"):
            chosen.update(t for t in EVENT_TYPES if t.startswith(pattern[:-1]))
        elif pattern in EVENT_TYPES:
            chosen.add(pattern)
    return frozenset(chosen)


@dataclass(frozen=True)
class Receiver:
    """One webhook receiver: `name` (lower-case letters, digits, dashes; it names the secret's
    variable), the `url` events are POSTed to, and the event types it subscribes to."""

    name: str
    url: str
    events: frozenset[str]

    @property
    def secret_variable(self) -> str:
        return secret_variable(self.name)


# Event type -> names of the receivers subscribed to it, sorted; a type nobody subscribes to is absent.
Routes = Mapping[str, tuple[str, ...]]


def routes(receivers: Iterable[Receiver]) -> dict[str, tuple[str, ...]]:
    """Which receivers each event type goes to (see Routes)."""
    found: dict[str, list[str]] = {}
    for receiver in receivers:
        for event_type in receiver.events:
            found.setdefault(event_type, []).append(receiver.name)
    return {event_type: tuple(sorted(names)) for event_type, names in found.items()}
