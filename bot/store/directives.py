"""Directive rows and who a directive covers, as SQL, so that bulk work stays set-based.

`covers` is the set-based form of `Population.covers` (bot/domain/directives.py), the one definition of
who a directive covers; tests/unit/test_directive_rules.py proves the two select the same people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, exists, false, func, or_, true, union
from sqlmodel import Session, col, select

from bot.domain.directives import (
    CITIZENSHIP,
    EVERYONE,
    NON_US_PERSONS,
    REQUIRE_LICENCE,
    RESTRICTING,
    USERS,
    Draft,
    InForce,
    Population,
    parse_population,
)
from bot.domain.licences import utc_day
from bot.domain.status import HELD_GRANT_STATUSES, DirectiveStatus, RequestStatus
from bot.store.licences import covered, covered_pairs, record_links
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    Directive,
    DirectiveCountry,
    DirectiveModel,
    DirectiveUser,
    Person,
    PersonCitizenship,
)

# -- who a directive covers ----------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Reach:
    """Whom and what a directive takes access from: its models and population and, for a directive
    that only requires a licence, the day (UTC) licences are judged on: people a licence of theirs
    covers for a model are outside its reach for that model (bot/domain/licences.py)."""

    models: tuple[str, ...]
    population: Population
    licensed_on: date | None = None

    @classmethod
    def of(cls, models: Iterable[str], population: Population, action: str, now: datetime) -> Reach:
        """The reach with licences judged on the day of `now` (UTC)."""
        return cls(tuple(models), population, utc_day(now) if action == REQUIRE_LICENCE else None)

    @classmethod
    def of_draft(cls, draft: Draft, now: datetime) -> Reach:
        """The reach of a directive once in force: licences are judged on the day it takes effect (a
        licence that ends before then will not exempt anyone; one that starts by then will)."""
        effective = draft.effective_at if draft.effective_at and draft.effective_at > now else now
        return cls.of(draft.models, draft.population, draft.action, effective)

    def includes(self, user_column: Any, model_column: Any) -> ColumnElement[bool]:
        """SQL for "this person's access to this model is within reach"."""
        covered_by_population = and_(
            model_column.in_(list(self.models)), covers(user_column, self.population)
        )
        if self.licensed_on is None:
            return covered_by_population
        return and_(covered_by_population, ~covered(user_column, model_column, self.licensed_on))


def link_licensed_grants(session: Session, reach: Reach) -> None:
    """For the reach of a require-licence directive: record the licences that keep the held grants of
    people in its population outside it, as the licences those grants depend on."""
    if reach.licensed_on is None:
        return
    held = and_(
        col(AccessGrant.status).in_(HELD_GRANT_STATUSES),
        col(AccessGrant.model).in_(list(reach.models)),
        covers(col(AccessGrant.user_id), reach.population),
    )
    record_links(session, [covered_pairs(held, reach.licensed_on)])


def held_grants(reach: Reach) -> ColumnElement[bool]:
    """Grants within the reach held (active or already suspended)."""
    return and_(
        col(AccessGrant.status).in_(HELD_GRANT_STATUSES),
        reach.includes(col(AccessGrant.user_id), col(AccessGrant.model)),
    )


def pending_requests(reach: Reach) -> ColumnElement[bool]:
    """Pending requests within the reach."""
    return and_(
        AccessRequest.status == RequestStatus.PENDING,
        reach.includes(col(AccessRequest.requester_id), col(AccessRequest.model)),
    )


def affected_people(reach: Reach, directive_id: int) -> Select[Any] | CompoundSelect:
    """A SELECT of `user_id`: everyone a directive speaks to, that is the people it names, or those
    within its reach who hold a grant or have a pending request."""
    if reach.population.kind == USERS:
        return select(col(DirectiveUser.user_id).label("user_id")).where(
            DirectiveUser.directive_id == directive_id
        )
    return union(
        select(col(AccessGrant.user_id).label("user_id")).where(held_grants(reach)),
        select(col(AccessRequest.requester_id).label("user_id")).where(pending_requests(reach)),
    )


def count_affected(session: Session, reach: Reach) -> int:
    """How many people a directive of this reach would speak to now (not for `users:` populations,
    whose people are named)."""
    affected = affected_people(reach, 0).subquery()
    return int(session.exec(select(func.count()).select_from(affected)).one())


# -- directive rows ------------------------------------------------------------------------------------


def add_directive(
    session: Session, draft: Draft, actor: str, now: datetime, status: DirectiveStatus
) -> Directive:
    """Store a checked draft with its models, countries and named people; returns the flushed row."""
    directive = Directive(
        title=draft.title,
        authority=draft.authority,
        reference=draft.reference,
        notice=draft.notice,
        action=draft.action,
        population=draft.population.text(),
        status=status,
        effective_at=draft.effective_at or now,
        issued_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(directive)
    session.flush()
    directive_id = directive.id or 0
    session.add_all(DirectiveModel(directive_id=directive_id, model=m) for m in draft.models)
    session.add_all(
        DirectiveCountry(directive_id=directive_id, country=c) for c in sorted(draft.population.countries)
    )
    session.add_all(
        DirectiveUser(directive_id=directive_id, user_id=u) for u in sorted(draft.population.users)
    )
    session.flush()
    return directive


def draft_of(session: Session, directive: Directive) -> Draft:
    """A stored directive as the checked draft it was issued from (its effective time only while it has
    not taken effect)."""
    return Draft(
        title=directive.title,
        authority=directive.authority,
        reference=directive.reference,
        notice=directive.notice,
        models=tuple(directive_models(session, directive.id or 0)),
        population=parse_population(directive.population),
        action=directive.action,
        effective_at=directive.effective_at
        if directive.status in (DirectiveStatus.DRAFT, DirectiveStatus.SCHEDULED)
        else None,
    )


def directive_models(session: Session, directive_id: int) -> list[str]:
    """The model slugs a directive names, sorted."""
    return list(
        session.exec(
            select(DirectiveModel.model)
            .where(DirectiveModel.directive_id == directive_id)
            .order_by(col(DirectiveModel.model))
        ).all()
    )


def models_of(session: Session, directive_ids: list[int]) -> dict[int, list[str]]:
    """Directive id -> the model slugs it names, sorted, in one query."""
    models: dict[int, list[str]] = {}
    if not directive_ids:
        return models
    for directive_id, slug in session.exec(
        select(DirectiveModel.directive_id, DirectiveModel.model)
        .where(col(DirectiveModel.directive_id).in_(directive_ids))
        .order_by(col(DirectiveModel.model))
    ):
        models.setdefault(directive_id, []).append(slug)
    return models


def lock_directive(session: Session, directive_id: int) -> Directive | None:
    """The directive, locked for this transaction (FOR UPDATE on PostgreSQL); None when there is none."""
    return session.exec(select(Directive).where(Directive.id == directive_id).with_for_update()).first()


def find_directive(session: Session, directive_id: int) -> Directive | None:
    """The directive (or draft) with this id, or None."""
    return session.get(Directive, directive_id)


def issued_directive(session: Session, directive_id: int) -> Directive | None:
    """The directive unless it is missing or still a draft."""
    directive = find_directive(session, directive_id)
    return None if directive is None or directive.status == DirectiveStatus.DRAFT else directive


def issued_directives(session: Session, *, include_lifted: bool = True) -> list[Directive]:
    """Every directive but drafts (and lifted ones unless `include_lifted`), oldest first."""
    query = select(Directive).where(Directive.status != DirectiveStatus.DRAFT).order_by(col(Directive.id))
    if not include_lifted:
        query = query.where(Directive.status != DirectiveStatus.LIFTED)
    return list(session.exec(query))


def due_directive_id(session: Session, now: datetime) -> int | None:
    """A scheduled directive whose time has come, looked at without locking anything."""
    return session.exec(
        select(Directive.id).where(
            Directive.status == DirectiveStatus.SCHEDULED, col(Directive.effective_at) <= now
        )
    ).first()


def claim_due_directive(session: Session, now: datetime) -> Directive | None:
    """The scheduled directive due first, locked; one another server holds is skipped (SKIP LOCKED)."""
    return session.exec(
        select(Directive)
        .where(Directive.status == DirectiveStatus.SCHEDULED, col(Directive.effective_at) <= now)
        .order_by(col(Directive.effective_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def claim_reporting_directives(session: Session) -> list[Directive]:
    """Issued directives with an admin's progress message, locked; those another server holds are
    skipped (SKIP LOCKED)."""
    return list(
        session.exec(
            select(Directive)
            .where(col(Directive.progress_outbox_id).is_not(None), Directive.status != DirectiveStatus.DRAFT)
            .with_for_update(skip_locked=True)
        ).all()
    )


# -- directives in force -------------------------------------------------------------------------------


def in_force(session: Session, now: datetime, model: str | None = None) -> list[tuple[Directive, InForce]]:
    """Directives in force (optionally only those naming `model`), with what the catalog needs of them.
    A scheduled directive whose time has come counts even before the scheduler has applied it."""
    query = select(Directive).where(
        or_(
            Directive.status == DirectiveStatus.ACTIVE,
            and_(Directive.status == DirectiveStatus.SCHEDULED, col(Directive.effective_at) <= now),
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
    """Directives in force that take `model` away from the people they cover."""
    return [(d, f) for d, f in in_force(session, now, model) if f.action in RESTRICTING]
