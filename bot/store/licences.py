"""Export licences on record, and the licence coverage rule as SQL.

`covered` is the set-based form of `covering` (bot/domain/licences.py): the entitlement rule's SQL
(bot/store/entitlement.py) and a directive's effects (bot/store/directives.py) use it so that a
require-licence directive never holds a person a licence of theirs covers.
tests/unit/test_entitlement_rule.py proves the two agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, insert, literal, or_, tuple_, union
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.licences import UNITED_STATES, Licence, LicenceTerms, number_key
from bot.domain.status import LicenceStatus
from bot.store.db import dialect_insert
from bot.store.directory import chunks
from bot.store.tables import (
    AccessGrant,
    GrantLicence,
    LicenceCountry,
    LicenceModel,
    LicenceWarning,
    Person,
    PersonCitizenship,
)
from bot.store.tables import Licence as LicenceRow

# -- the coverage rule ----------------------------------------------------------------------------------


def in_effect(on: date) -> ColumnElement[bool]:
    """SQL for "this licence row is active and `on` is between its first and last day"."""
    return and_(
        LicenceRow.status == LicenceStatus.ACTIVE,
        col(LicenceRow.valid_from) <= on,
        col(LicenceRow.valid_until) >= on,
    )


def _exists(table: Any, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS over `table` alone: every other table the conditions name is the enclosing query's, at
    any depth (SQLAlchemy correlates only one level by itself)."""
    return select(literal(1)).select_from(table).where(*conditions).correlate_except(table).exists()


def covering_licence(user_column: Any, model_column: Any, on: date) -> ColumnElement[bool]:
    """SQL, correlated to a LicenceRow in the enclosing query, for "this licence covers the user for the
    model on the day `on`": held by them, in effect, naming the model and every country their access is
    an export to; never when their citizenship or work country is not on file."""
    licence_id = col(LicenceRow.id)
    citizenship = aliased(PersonCitizenship)
    person = aliased(Person)

    def names(country: Any) -> ColumnElement[bool]:
        return _exists(
            LicenceCountry, LicenceCountry.licence_id == licence_id, LicenceCountry.country == country
        )

    return and_(
        LicenceRow.holder_id == user_column,
        in_effect(on),
        _exists(LicenceModel, LicenceModel.licence_id == licence_id, LicenceModel.model == model_column),
        # Facts on file: at least one citizenship, and a work country.
        _exists(citizenship, citizenship.slack_user_id == user_column),
        # Each citizenship other than US named (deemed export) ...
        ~_exists(
            PersonCitizenship,
            PersonCitizenship.slack_user_id == user_column,
            PersonCitizenship.country != UNITED_STATES,
            ~names(PersonCitizenship.country),
        ),
        # ... and the work country, unless it is the United States.
        _exists(
            person,
            person.slack_user_id == user_column,
            col(person.work_country).is_not(None),
            or_(person.work_country == UNITED_STATES, names(person.work_country)),
        ),
    )


def covered(user_column: Any, model_column: Any, on: date) -> ColumnElement[bool]:
    """SQL for "a licence of the user covers them for the model on the day `on`"."""
    return _exists(LicenceRow, covering_licence(user_column, model_column, on))


# -- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredLicence:
    """A licence row with its models and countries, and (when read with them) the ids of the grants
    that depend on it."""

    row: LicenceRow
    models: tuple[str, ...]
    countries: tuple[str, ...]
    grants: tuple[int, ...] = ()

    @property
    def licence(self) -> Licence:
        return Licence(
            licence_id=self.row.id or 0,
            holder_id=self.row.holder_id,
            models=frozenset(self.models),
            countries=frozenset(self.countries),
            valid_from=self.row.valid_from,
            valid_until=self.row.valid_until,
            status=LicenceStatus(self.row.status),
            number=self.row.number,
            authority=self.row.authority,
            kind=self.row.kind,
        )


def _grouped(session: Session, key: Any, value: Any, ids: Sequence[Any]) -> dict[Any, list[Any]]:
    """Each of `ids` -> the `value`s of the rows whose `key` it is, ascending: a link table read a
    thousand ids per query."""
    found: dict[Any, list[Any]] = {i: [] for i in ids}
    for part in chunks(ids):
        for owner, linked in session.exec(select(key, value).where(col(key).in_(part)).order_by(value)):
            found[owner].append(linked)
    return found


def _records(session: Session, rows: list[LicenceRow], *, grants: bool = False) -> list[StoredLicence]:
    """The rows with their models and countries, and with the grants that depend on them if `grants`."""
    ids = [r.id or 0 for r in rows]
    models = _grouped(session, LicenceModel.licence_id, LicenceModel.model, ids)
    countries = _grouped(session, LicenceCountry.licence_id, LicenceCountry.country, ids)
    dependent = _grouped(session, GrantLicence.licence_id, GrantLicence.grant_id, ids) if grants else {}
    return [
        StoredLicence(r, tuple(models[i]), tuple(countries[i]), tuple(dependent.get(i, ())))
        for r, i in zip(rows, ids, strict=True)
    ]


def licences_held(session: Session, user_ids: Iterable[str]) -> dict[str, tuple[Licence, ...]]:
    """User id -> every licence on record they hold (any status), by id; a few queries per thousand."""
    found: dict[str, list[Licence]] = defaultdict(list)
    for part in chunks(sorted(set(user_ids))):
        rows = list(
            session.exec(
                select(LicenceRow).where(col(LicenceRow.holder_id).in_(part)).order_by(col(LicenceRow.id))
            ).all()
        )
        for record in _records(session, rows):
            found[record.row.holder_id].append(record.licence)
    return {user_id: tuple(licences) for user_id, licences in found.items()}


def find_licence(
    session: Session, licence_id: int, *, lock: bool = False, grants: bool = False
) -> StoredLicence | None:
    """One licence with its models and countries (and dependent grants if `grants`); `lock` takes its
    row lock (PostgreSQL)."""
    query = select(LicenceRow).where(LicenceRow.id == licence_id)
    row = session.exec(query.with_for_update() if lock else query).first()
    return _records(session, [row], grants=grants)[0] if row is not None else None


def by_number(session: Session, authority: str, number: str) -> StoredLicence | None:
    """The licence an authority issued under `number`, matched without regard to case (`BIS` and `bis`
    name one authority; licence numbers are not told apart by case either)."""
    key = number_key(authority, number)
    row = session.exec(select(LicenceRow).where(LicenceRow.number_key == key)).first()
    return _records(session, [row])[0] if row is not None else None


def list_licences(
    session: Session, *, holder: str | None = None, status: LicenceStatus | None = None
) -> list[StoredLicence]:
    """Licences by id, optionally of one holder and in one status, with the grants that depend on them."""
    query = select(LicenceRow).order_by(col(LicenceRow.id))
    if holder is not None:
        query = query.where(LicenceRow.holder_id == holder)
    if status is not None:
        query = query.where(LicenceRow.status == status)
    return _records(session, list(session.exec(query).all()), grants=True)


def grant_licences(session: Session, grant_ids: list[int]) -> dict[int, list[int]]:
    """Grant id -> ids of the licences it depends on, ascending."""
    return _grouped(session, GrantLicence.grant_id, GrantLicence.licence_id, grant_ids)


# -- writing --------------------------------------------------------------------------------------------


def add_licence(
    session: Session, terms: LicenceTerms, holder_id: str, actor: str, now: datetime, status: LicenceStatus
) -> LicenceRow:
    """Store a checked licence with its models and countries; returns the flushed row."""
    row = LicenceRow(
        number=terms.number,
        authority=terms.authority,
        number_key=number_key(terms.authority, terms.number),
        kind=terms.kind,
        holder_id=holder_id,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        conditions=terms.conditions,
        status=status,
        recorded_by=actor,
        recorded_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _set_scope(session, row.id or 0, terms)
    return row


def update_licence(
    session: Session, row: LicenceRow, terms: LicenceTerms, holder_id: str, now: datetime
) -> None:
    """Replace a licence's terms (same authority and number) with `terms`. A new last day or holder
    is warned about afresh before it lapses; a new holder's licence no longer keeps the previous
    holder's grants (the re-check links the grants it covers now)."""
    if row.valid_until != terms.valid_until or row.holder_id != holder_id:
        session.exec(delete(LicenceWarning).where(col(LicenceWarning.licence_id) == row.id))  # type: ignore[call-overload]
    if row.holder_id != holder_id:
        session.exec(delete(GrantLicence).where(col(GrantLicence.licence_id) == row.id))  # type: ignore[call-overload]
    row.kind = terms.kind
    row.holder_id = holder_id
    row.valid_from = terms.valid_from
    row.valid_until = terms.valid_until
    row.conditions = terms.conditions
    row.updated_at = now
    session.add(row)
    session.exec(delete(LicenceModel).where(col(LicenceModel.licence_id) == row.id))  # type: ignore[call-overload]
    session.exec(delete(LicenceCountry).where(col(LicenceCountry.licence_id) == row.id))  # type: ignore[call-overload]
    session.flush()
    _set_scope(session, row.id or 0, terms)


def _set_scope(session: Session, licence_id: int, terms: LicenceTerms) -> None:
    session.add_all(LicenceModel(licence_id=licence_id, model=m) for m in sorted(terms.models))
    session.add_all(LicenceCountry(licence_id=licence_id, country=c) for c in sorted(terms.countries))
    session.flush()


def end_licence(
    session: Session, row: LicenceRow, status: LicenceStatus, actor: str, reason: str, now: datetime
) -> None:
    """Mark a licence revoked or expired, with who and why."""
    row.status = status
    row.ended_by = actor
    row.ended_at = now
    row.end_reason = reason
    row.updated_at = now
    session.add(row)
    session.flush()


def lapsed(session: Session, today: date, *, lock: bool = True) -> list[LicenceRow]:
    """Active licences whose last day is before `today` (UTC); with `lock`, those no other transaction
    has locked, locked for the caller (PostgreSQL)."""
    query = (
        select(LicenceRow)
        .where(LicenceRow.status == LicenceStatus.ACTIVE, col(LicenceRow.valid_until) < today)
        .order_by(col(LicenceRow.id))
    )
    return list(session.exec(query.with_for_update(skip_locked=True) if lock else query).all())


def due_warnings(session: Session, today: date, lead_days: Iterable[int]) -> list[tuple[LicenceRow, int]]:
    """(licence, lead) for every active licence whose last day is at most `lead` days after `today` and
    that has not been warned for that lead yet; only the shortest lead due is returned per licence, and
    the longer ones due with it are skipped (recorded as queued by `claim_warning`)."""
    leads = sorted(set(lead_days))
    if not leads:
        return []
    rows = session.exec(
        select(LicenceRow)
        .where(
            LicenceRow.status == LicenceStatus.ACTIVE,
            col(LicenceRow.valid_until) >= today,
            col(LicenceRow.valid_until) <= date.fromordinal(today.toordinal() + leads[-1]),
        )
        .order_by(col(LicenceRow.id))
    ).all()
    warned: dict[int, set[int]] = defaultdict(set)
    ids = [r.id or 0 for r in rows]
    for start in range(0, len(ids), 1000):
        for licence_id, days in session.exec(
            select(LicenceWarning.licence_id, LicenceWarning.days_before).where(
                col(LicenceWarning.licence_id).in_(ids[start : start + 1000])
            )
        ):
            warned[licence_id].add(days)
    due = []
    for row in rows:
        left = row.valid_until.toordinal() - today.toordinal()
        reached = [lead for lead in leads if left <= lead]
        if reached and reached[0] not in warned[row.id or 0]:
            due.append((row, reached[0]))
    return due


def claim_warning(session: Session, licence_id: int, lead: int, leads: Iterable[int], now: datetime) -> bool:
    """Record the warning for `lead` (days before the licence's last day) as queued, with the longer
    `leads` due with it; False when another transaction recorded `lead` first, and the caller must not
    warn again. The rows go in with ON CONFLICT DO NOTHING: two scheduler runs racing over the same
    licence (a forced run beside the timer, two replicas' first ticks) cannot both see the lead as
    due and both warn, as a read followed by an insert allowed."""
    # In order of lead, so that two runs inserting the same rows wait on each other rather than deadlock.
    days_before = sorted({lead, *leads})
    rows = [{"licence_id": licence_id, "days_before": days, "queued_at": now} for days in days_before]
    statement = (
        dialect_insert(session)(LicenceWarning)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(col(LicenceWarning.days_before))
    )
    # RETURNING names the rows that went in: psycopg does not report an INSERT's row count here.
    return lead in set(session.exec(statement).scalars())  # type: ignore[call-overload]


def covered_pairs(grants: ColumnElement[bool], on: date) -> Select[tuple[int, int]]:
    """(grant id, licence id) for each grant matching `grants` (SQL over AccessGrant: grants a
    require-licence directive in force covers) and each licence that covers its holder for its model
    on the day `on`: the licences the grant depends on."""
    return (
        select(col(AccessGrant.id), col(LicenceRow.id))
        .select_from(AccessGrant)
        .join(LicenceRow, col(LicenceRow.holder_id) == col(AccessGrant.user_id))
        .where(grants, covering_licence(col(AccessGrant.user_id), col(AccessGrant.model), on))
    )


def link_grants(
    session: Session, pairs: Sequence[Select[tuple[int, int]]], held: ColumnElement[bool]
) -> None:
    """Make the recorded dependencies of the grants matching `held` (SQL over AccessGrant) exactly
    `pairs` (each a `covered_pairs` query): record those not yet recorded, and forget those no longer
    among them (a licence revoked or lapsed, a directive lifted, a fact corrected). Ended grants keep the
    licences they last depended on; what each relied on at any moment is in the audit trail."""
    current = union(*pairs) if len(pairs) > 1 else pairs[0] if pairs else None
    stale = col(GrantLicence.grant_id).in_(select(AccessGrant.id).where(held))
    if current is not None:
        # Uncorrelated NOT IN, so that PostgreSQL reads each side once rather than once per row.
        stale = and_(stale, tuple_(GrantLicence.grant_id, GrantLicence.licence_id).not_in(current))
    session.exec(delete(GrantLicence).where(stale))  # type: ignore[call-overload]
    record_links(session, pairs)


def record_links(session: Session, pairs: Sequence[Select[tuple[int, int]]]) -> None:
    """Record the dependencies among `pairs` (each a `covered_pairs` query) not yet recorded."""
    recorded = select(GrantLicence.grant_id, GrantLicence.licence_id)
    for pair in pairs:
        # Uncorrelated, so that PostgreSQL reads the links once rather than once per row (rescanning
        # the rows this statement inserts).
        fresh = pair.where(tuple_(AccessGrant.id, LicenceRow.id).not_in(recorded))
        session.exec(insert(GrantLicence).from_select(["grant_id", "licence_id"], fresh))  # type: ignore[call-overload]


def link_grant(session: Session, grant_id: int, licence_ids: Iterable[int]) -> None:
    """Record that a new grant depends on these licences."""
    session.add_all(GrantLicence(grant_id=grant_id, licence_id=i) for i in sorted(set(licence_ids)))
    session.flush()
