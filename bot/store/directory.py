"""Directory queries: people, their roles and citizenships."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.domain.people import Person
from bot.store.tables import Person as PersonRow
from bot.store.tables import PersonCitizenship, PersonRole
from bot.store.types import utcnow


def _to_domain(row: PersonRow, roles: Iterable[str], citizenships: Iterable[str]) -> Person:
    return Person(
        slack_user_id=row.slack_user_id,
        email=row.email,
        name=row.name,
        manager_email=row.manager_email,
        department=row.department,
        work_country=row.work_country,
        citizenships=frozenset(citizenships),
        us_person=row.us_person,
        roles=frozenset(roles),
    )


def load_people(session: Session, user_ids: Iterable[str]) -> dict[str, Person]:
    """Several people in three queries (not one round trip per person)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.exec(select(PersonRow).where(PersonRow.slack_user_id.in_(ids))).all()  # type: ignore[attr-defined]
    roles: dict[str, list[str]] = defaultdict(list)
    for user_id, role in session.exec(
        select(PersonRole.slack_user_id, PersonRole.role).where(PersonRole.slack_user_id.in_(ids))  # type: ignore[attr-defined]
    ):
        roles[user_id].append(role)
    citizenships: dict[str, list[str]] = defaultdict(list)
    for user_id, country in session.exec(
        select(PersonCitizenship.slack_user_id, PersonCitizenship.country).where(
            PersonCitizenship.slack_user_id.in_(ids)  # type: ignore[attr-defined]
        )
    ):
        citizenships[user_id].append(country)
    return {
        r.slack_user_id: _to_domain(r, roles[r.slack_user_id], citizenships[r.slack_user_id]) for r in rows
    }


def load_person(session: Session, user_id: str) -> Person | None:
    return load_people(session, [user_id]).get(user_id)


def find_person(session: Session, key: str) -> Person | None:
    """A person by Slack user ID or email address."""
    key = key.strip()
    if "@" in key:
        user_id = session.exec(select(PersonRow.slack_user_id).where(PersonRow.email == key.lower())).first()
        return load_person(session, user_id) if user_id else None
    return load_person(session, key)


def person_by_email(session: Session, email: str) -> Person | None:
    return find_person(session, email) if email else None


def holders_of_role(session: Session, role: str) -> list[str]:
    return list(session.exec(select(PersonRole.slack_user_id).where(PersonRole.role == role)).all())


def has_role(session: Session, user_id: str, role: str) -> bool:
    found = session.exec(
        select(PersonRole.slack_user_id).where(PersonRole.slack_user_id == user_id, PersonRole.role == role)
    ).first()
    return found is not None


def upsert_people(session: Session, people: Sequence[Person]) -> tuple[int, int, int]:
    """Insert or update each person by slack_user_id; returns (added, changed, unchanged)."""
    existing = load_people(session, [p.slack_user_id for p in people])
    added = changed = unchanged = 0
    now = utcnow()
    for person in people:
        before = existing.get(person.slack_user_id)
        if before == person:
            unchanged += 1
            continue
        row = session.get(PersonRow, person.slack_user_id)
        if row is None:
            row = PersonRow(
                slack_user_id=person.slack_user_id, email=person.email, name=person.name, created_at=now
            )
            added += 1
        else:
            changed += 1
        row.email = person.email
        row.name = person.name
        row.manager_email = person.manager_email
        row.department = person.department
        row.work_country = person.work_country
        row.us_person = person.us_person
        row.updated_at = now
        session.add(row)
        session.flush()
        session.exec(delete(PersonRole).where(PersonRole.slack_user_id == person.slack_user_id))  # type: ignore[call-overload]
        session.exec(delete(PersonCitizenship).where(PersonCitizenship.slack_user_id == person.slack_user_id))  # type: ignore[call-overload]
        session.add_all(PersonRole(slack_user_id=person.slack_user_id, role=r) for r in sorted(person.roles))
        session.add_all(
            PersonCitizenship(slack_user_id=person.slack_user_id, country=c)
            for c in sorted(person.citizenships)
        )
    session.flush()
    return added, changed, unchanged
