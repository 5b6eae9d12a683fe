"""Directive queries: who a population covers, as SQL, so that bulk work stays set-based."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, true
from sqlmodel import Session, col, select

from bot.domain.directives import (
    ACTIVE,
    CITIZENSHIP,
    EVERYONE,
    NON_US_PERSONS,
    RESTRICTING,
    SCHEDULED,
    USERS,
    InForce,
    Population,
    parse_population,
)
from bot.store.tables import (
    HELD_GRANT_STATUSES,
    AccessGrant,
    AccessRequest,
    Directive,
    DirectiveModel,
    Person,
    PersonCitizenship,
)


def covers(user_column: Any, population: Population) -> ColumnElement[bool]:
    """SQL for "this user is in the population". Unknown facts count as covered (fail closed): people
    missing from the directory, unknown US-person status, no citizenship on file."""
    if population.kind == EVERYONE:
        return true()
    if population.kind == USERS:
        return user_column.in_(sorted(population.users)) if population.users else false()
    known = select(Person.slack_user_id)
    if population.kind == NON_US_PERSONS:
        not_us = select(Person.slack_user_id).where(col(Person.us_person).is_not(True))
        return or_(user_column.in_(not_us), user_column.not_in(known))
    if population.kind == CITIZENSHIP:
        listed = select(PersonCitizenship.slack_user_id).where(
            col(PersonCitizenship.country).in_(sorted(population.countries))
        )
        with_any = select(PersonCitizenship.slack_user_id)
        return or_(user_column.in_(listed), user_column.not_in(with_any))
    raise ValueError(f"unknown population kind {population.kind!r}")


def held_grants(models: list[str] | tuple[str, ...], population: Population) -> ColumnElement[bool]:
    """Grants someone in the population holds (active or already suspended) on these models."""
    return and_(
        col(AccessGrant.status).in_(HELD_GRANT_STATUSES),
        col(AccessGrant.model).in_(list(models)),
        covers(col(AccessGrant.user_id), population),
    )


def pending_requests(models: list[str] | tuple[str, ...], population: Population) -> ColumnElement[bool]:
    return and_(
        AccessRequest.status == "pending",
        col(AccessRequest.model).in_(list(models)),
        covers(col(AccessRequest.requester_id), population),
    )


def directive_models(session: Session, directive_id: int) -> list[str]:
    return list(
        session.exec(
            select(DirectiveModel.model)
            .where(DirectiveModel.directive_id == directive_id)
            .order_by(col(DirectiveModel.model))
        ).all()
    )


def in_force(session: Session, now: datetime, model: str | None = None) -> list[tuple[Directive, InForce]]:
    """Directives in force (optionally only those naming `model`), with what the catalog needs of them.
    A scheduled directive whose time has come counts even before the scheduler has applied it."""
    query = select(Directive).where(
        or_(
            Directive.status == ACTIVE,
            and_(Directive.status == SCHEDULED, col(Directive.effective_at) <= now),
        )
    )
    if model is not None:
        query = query.where(
            exists().where(DirectiveModel.directive_id == Directive.id, DirectiveModel.model == model)
        )
    directives = list(session.exec(query.order_by(col(Directive.id))).all())
    if not directives:
        return []
    ids = [d.id for d in directives]
    models: dict[int, set[str]] = {}
    for directive_id, slug in session.exec(
        select(DirectiveModel.directive_id, DirectiveModel.model).where(
            col(DirectiveModel.directive_id).in_(ids)
        )
    ):
        models.setdefault(directive_id, set()).add(slug)
    return [
        (d, InForce(frozenset(models.get(d.id or 0, set())), parse_population(d.population), d.action))
        for d in directives
    ]


def restricting_in_force(session: Session, model: str, now: datetime) -> list[tuple[Directive, InForce]]:
    return [(d, f) for d, f in in_force(session, now, model) if f.action in RESTRICTING]
