"""The restricting directives in force on a model, for the entitlement rule (the status the catalog shows
is built in bot/present/status.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.catalog import Model
from bot.domain.policy import Restriction
from bot.store.directives import restricting_in_force


def restrictions_for(session: Session, model: Model, now: datetime) -> tuple[Restriction, ...]:
    """Directives in force that take this model away from the people they cover; whether one covers a
    given person is the entitlement rule's to say (bot/domain/entitlement.py)."""
    return tuple(
        Restriction(
            directive.id or 0,
            directive.reference,
            directive.title,
            directive.action,
            rule.models,
            rule.population,
        )
        for directive, rule in restricting_in_force(session, model.slug, now)
    )
