"""What restricts a model right now: its configured status, and the directives in force."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.catalog import Catalog, Model
from bot.domain.directives import catalog_status
from bot.domain.people import Person
from bot.domain.policy import Restriction
from bot.store.directives import in_force, restricting_in_force


def model_statuses(session: Session, catalog: Catalog, now: datetime) -> dict[str, str]:
    """Every model's status as people see it in the catalog (in one query). Requests are checked against
    the configured status and, separately, against each directive, so that a denial can cite it."""
    active = [f for _, f in in_force(session, now)]
    return {slug: catalog_status(slug, m.status, active) for slug, m in catalog.models.items()}


def restrictions_for(
    session: Session, person: Person, model: Model, now: datetime
) -> tuple[Restriction, ...]:
    """Directives in force that take this model away from this person."""
    return tuple(
        Restriction(directive.id or 0, directive.reference, directive.title, directive.action)
        for directive, rule in restricting_in_force(session, model.slug, now)
        if rule.population.covers(person.slack_user_id, person)
    )
