"""What restricts a model for a person right now: the directives in force (the status the catalog
shows is built in bot/present/status.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.catalog import Model
from bot.domain.people import Person
from bot.domain.policy import Restriction
from bot.store.directives import restricting_in_force


def restrictions_for(
    session: Session, person: Person, model: Model, now: datetime
) -> tuple[Restriction, ...]:
    """Directives in force that take this model away from this person."""
    return tuple(
        Restriction(directive.id or 0, directive.reference, directive.title, directive.action)
        for directive, rule in restricting_in_force(session, model.slug, now)
        if rule.population.covers(person.slack_user_id, person)
    )
