"""Warnings before a grant ends, and extending a grant: when each warning is due, whether a grant can be
extended, and its new end. Pure: no database, no Slack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.catalog import AVAILABLE, Model
from bot.domain.durations import format_duration
from bot.domain.status import GrantStatus


@dataclass(frozen=True)
class GrantFacts:
    """What decides whether a grant can be extended: its state and span, and any request for the same
    model already waiting (an extension or otherwise)."""

    grant_id: int
    status: str
    starts_at: datetime
    expires_at: datetime
    held_by: tuple[str, ...] = ()  # what holds it suspended (hold names, `directive:D3`)
    pending_request_id: int | None = None


def due_warning(
    starts_at: datetime,
    expires_at: datetime,
    leads: Sequence[timedelta],
    warned: Sequence[timedelta],
    now: datetime,
) -> timedelta | None:
    """The warning to send now, or None: the shortest lead time L of `leads` with `expires_at - L <= now <
    expires_at`, not yet `warned`, on a grant longer than L (a 2-day grant gets no 3-day warning). The
    caller records every lead from the one sent up as warned: a longer warning that was missed (the bot
    was down) is not sent after a shorter one."""
    if not now < expires_at:
        return None
    # A warning already sent settles every longer one: a lead added to the settings later, or a longer
    # warning missed, is never sent after a shorter one.
    shortest_sent = min(warned, default=None)
    due = [
        lead
        for lead in leads
        if expires_at - lead <= now
        and expires_at - starts_at > lead
        and (shortest_sent is None or lead < shortest_sent)
    ]
    return min(due) if due else None


def extension_blocker(model: Model | None, facts: GrantFacts, now: datetime) -> str | None:
    """Why the grant cannot be extended now, in plain words for its holder, or None when it can be
    asked for (the request is then checked like any other: bot/domain/policy.py)."""
    label = f"G{facts.grant_id}"
    if facts.status not in (GrantStatus.ACTIVE, GrantStatus.SUSPENDED) or facts.expires_at <= now:
        return f"{label} has ended; ask for access again with `/access request`."
    if model is None:
        return f"{label} is for a model that is no longer in the catalog."
    if model.status != AVAILABLE:
        return f"{model.name} is {model.status}: its grants are not extended."
    if facts.status == GrantStatus.SUSPENDED:
        why = f" (held by {', '.join(facts.held_by)})" if facts.held_by else ""
        return f"{label} is suspended{why}: it cannot be extended while suspended."
    if facts.pending_request_id is not None:
        return f"R{facts.pending_request_id} for {model.name} is already waiting for approval."
    if facts.expires_at >= now + model.max_duration:
        return (
            f"{label} already runs to the longest {model.name} allows "
            f"({format_duration(model.max_duration)} from now)."
        )
    return None


def extended_end(current_end: datetime, duration: timedelta, approved_at: datetime, model: Model) -> datetime:
    """The grant's new end once an extension by `duration` is approved at `approved_at`: it continues from
    the current end without a gap, and never runs past the model's maximum measured from the approval."""
    return min(current_end + duration, approved_at + model.max_duration)
