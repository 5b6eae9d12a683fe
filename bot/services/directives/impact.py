"""What issuing a directive now would do: grants suspended, requests stopped, people and channels told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.domain.directives import RESTRICTING, USERS, Draft
from bot.domain.status import GrantStatus
from bot.present.rows import model_name
from bot.services.context import Context
from bot.store import directive_effects as effects
from bot.store import directives as rows
from bot.store import directory as people


@dataclass
class ModelImpact:
    model: str
    name: str
    grants_suspended: int = 0  # active grants that will be suspended
    grants_already_suspended: int = 0  # held suspended by another directive already
    requests_stopped: int = 0
    channels: list[str] = field(default_factory=list)


@dataclass
class Impact:
    models: list[ModelImpact]
    people: int
    channels: list[str]
    action: str
    # People a `users:` population names who are not in the directory: each is told only if Slack
    # knows them (asked before the DM), and otherwise reported as not notified.
    not_in_directory: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape (`accessbot directive issue --json`, the audit event, templates)."""
        return {
            "action": self.action,
            "people_to_notify": self.people,
            "not_in_directory": self.not_in_directory,
            "channels_to_notify": self.channels,
            "models": [
                {
                    "model": m.model,
                    "name": m.name,
                    "grants_suspended": m.grants_suspended,
                    "grants_already_suspended": m.grants_already_suspended,
                    "requests_stopped": m.requests_stopped,
                    "channels": m.channels,
                }
                for m in self.models
            ],
        }


def measure(ctx: Context, session: Session, draft: Draft) -> Impact:
    """What putting the draft in force would do, on today's grants and requests, counted in a few
    grouped queries over the same rows that putting it in force changes; licences are judged on the
    day it takes effect. Reads only; `session` may be read-only."""
    models, population, action = draft.models, draft.population, draft.action
    impacts = {
        slug: ModelImpact(
            slug,
            model_name(ctx.catalog, slug),
            channels=list(m.announce_channels) if (m := ctx.catalog.model(slug)) else [],
        )
        for slug in models
    }
    reach = rows.Reach.of_draft(draft, ctx.clock())
    if action in RESTRICTING:
        for slug, status, count in effects.held_grant_counts(session, reach):
            if status == GrantStatus.ACTIVE:
                impacts[slug].grants_suspended = count
            else:
                impacts[slug].grants_already_suspended = count
        for slug, count in effects.pending_request_counts(session, reach):
            impacts[slug].requests_stopped = count
    outside: list[str] = []
    if population.kind == USERS:
        people_count = len(population.users)
        listed = people.load_people(session, sorted(population.users))
        outside = sorted(population.users - set(listed))
    else:
        people_count = rows.count_affected(session, reach)
    channels = sorted({c for m in impacts.values() for c in m.channels})
    return Impact([impacts[s] for s in models], people_count, channels, action, outside)
