"""What restricts a model right now: its configured status, and (see directives) orders in force."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.domain.catalog import Catalog, Model
from bot.domain.people import Person
from bot.domain.policy import Restriction


def model_status(session: Session, catalog: Catalog, model: Model, now: datetime) -> str:
    """The status people see in the catalog."""
    del session, catalog, now
    return model.status


def restrictions_for(session: Session, person: Person, model: Model) -> tuple[Restriction, ...]:
    """Directives in force that cover this person and model."""
    del session, person, model
    return ()
