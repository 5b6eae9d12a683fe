"""Directory queries: people, their roles and citizenships."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, bindparam, delete, insert, update
from sqlmodel import Session, col, select

from bot.domain.people import Person
from bot.domain.text import clean_text
from bot.store.db import now_of
from bot.store.tables import Person as PersonRow
from bot.store.tables import PersonCitizenship, PersonRole


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


T = TypeVar("T")

CHUNK = 1000  # ids per IN (…) list: PostgreSQL takes at most 65,535 parameters in one statement


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_people(session: Session, user_ids: Iterable[str]) -> dict[str, Person]:
    """Many people in three queries per thousand (not one round trip per person)."""
    ids = sorted(set(user_ids))
    rows: list[PersonRow] = []
    roles: dict[str, list[str]] = defaultdict(list)
    citizenships: dict[str, list[str]] = defaultdict(list)
    for part in chunks(ids):
        rows += session.exec(select(PersonRow).where(col(PersonRow.slack_user_id).in_(part))).all()
        for user_id, role in session.exec(
            select(PersonRole.slack_user_id, PersonRole.role).where(col(PersonRole.slack_user_id).in_(part))
        ):
            roles[user_id].append(role)
        for user_id, country in session.exec(
            select(PersonCitizenship.slack_user_id, PersonCitizenship.country).where(
                col(PersonCitizenship.slack_user_id).in_(part)
            )
        ):
            citizenships[user_id].append(country)
    return {
        r.slack_user_id: _to_domain(r, roles[r.slack_user_id], citizenships[r.slack_user_id]) for r in rows
    }


def load_person(session: Session, user_id: str) -> Person | None:
    return load_people(session, [user_id]).get(user_id)


def name_of(session: Session, user_id: str) -> str:
    """The person's name in the directory, or their user ID when it does not know them."""
    person = load_person(session, user_id)
    return person.name if person else user_id


def find_person(session: Session, key: str) -> Person | None:
    """A person by Slack user ID or email address (any case, spaces around it ignored), else None.

    Stored directory text never holds the characters clean_text drops, so a key with one (a NUL, an
    escape, a lone surrogate from an undecodable command-line byte) matches nobody; it is answered here
    rather than sent to the database, where PostgreSQL would refuse a NUL or a surrogate outright.
    """
    key = key.strip()
    if not key or clean_text(key) != key:
        return None
    if "@" in key:
        user_id = session.exec(select(PersonRow.slack_user_id).where(PersonRow.email == key.lower())).first()
        return load_person(session, user_id) if user_id else None
    return load_person(session, key)


def person_by_email(session: Session, email: str) -> Person | None:
    """Whoever the directory lists now under this email (a departed person is nobody's manager)."""
    person = find_person(session, email) if email else None
    if person is None or departed_ids(session, [person.slack_user_id]):
        return None
    return person


def present_ids(session: Session) -> list[str]:
    """Everyone on record who has not departed."""
    return list(
        session.exec(select(PersonRow.slack_user_id).where(col(PersonRow.departed_at).is_(None))).all()
    )


def present_ids_of(session: Session, user_ids: Iterable[str]) -> set[str]:
    """Those of `user_ids` on record and not departed."""
    return _ids_where(session, user_ids, col(PersonRow.departed_at).is_(None))


# Built once with a bound parameter: `/access status` asks it on the ack path of every request.
_IS_PRESENT = select(PersonRow.slack_user_id).where(
    PersonRow.slack_user_id == bindparam("user_id"), col(PersonRow.departed_at).is_(None)
)


def is_present(session: Session, user_id: str) -> bool:
    """Whether `user_id` is on record and has not departed (one query)."""
    return session.exec(_IS_PRESENT, params={"user_id": user_id}).first() is not None


def departed_ids(session: Session, user_ids: Iterable[str]) -> set[str]:
    """Those of `user_ids` marked departed."""
    return _ids_where(session, user_ids, col(PersonRow.departed_at).is_not(None))


def _ids_where(session: Session, user_ids: Iterable[str], condition: ColumnElement[bool]) -> set[str]:
    """Those of `user_ids` on record whose row meets `condition`, a thousand ids per query."""
    found: set[str] = set()
    for part in chunks(sorted(set(user_ids))):
        found |= set(
            session.exec(
                select(PersonRow.slack_user_id).where(col(PersonRow.slack_user_id).in_(part), condition)
            ).all()
        )
    return found


def is_departed(session: Session, user_id: str) -> bool:
    return bool(departed_ids(session, [user_id]))


def set_departed(session: Session, user_ids: Sequence[str], departed: bool) -> None:
    """Mark these people departed now, dropping their roles (a departed person approves nothing; their
    entry stays for the record), or, with `departed` False, present again (their roles come back with
    the import's rows)."""
    now = now_of(session)
    connection = session.connection()
    for part in chunks(list(user_ids)):
        listed = col(PersonRow.slack_user_id).in_(part)
        connection.execute(
            update(PersonRow).where(listed).values(departed_at=now if departed else None, updated_at=now)
        )
        if departed:
            connection.execute(delete(PersonRole).where(col(PersonRole.slack_user_id).in_(part)))


def holders_of_role(session: Session, role: str) -> list[str]:
    return list(session.exec(select(PersonRole.slack_user_id).where(PersonRole.role == role)).all())


def roles_of(session: Session, user_id: str) -> set[str]:
    """Every role `user_id` holds, in one query."""
    return set(session.exec(select(PersonRole.role).where(PersonRole.slack_user_id == user_id)).all())


def has_role(session: Session, user_id: str, role: str) -> bool:
    found = session.exec(
        select(PersonRole.slack_user_id).where(PersonRole.slack_user_id == user_id, PersonRole.role == role)
    ).first()
    return found is not None


def upsert_people(
    session: Session, people: Sequence[Person], existing: dict[str, Person]
) -> tuple[int, int, int]:
    """Insert or update people by slack_user_id, in bulk statements; `existing` is what load_people gave
    for them. Returns (added, changed, unchanged)."""
    new = [p for p in people if p.slack_user_id not in existing]
    changed = [p for p in people if p.slack_user_id in existing and existing[p.slack_user_id] != p]
    now = now_of(session)
    connection = session.connection()

    def facts(person: Person) -> dict[str, object]:
        return {
            "email": person.email,
            "name": person.name,
            "manager_email": person.manager_email,
            "department": person.department,
            "work_country": person.work_country,
            "us_person": person.us_person,
            "updated_at": now,
        }

    if new:
        connection.execute(
            insert(PersonRow),
            [{"slack_user_id": p.slack_user_id, "created_at": now, **facts(p)} for p in new],
        )
    if changed:
        connection.execute(
            update(PersonRow).where(col(PersonRow.slack_user_id) == bindparam("person_id")),
            [{"person_id": p.slack_user_id, **facts(p)} for p in changed],
        )
    touched = [p.slack_user_id for p in (*new, *changed)]
    for part in chunks(touched):
        connection.execute(delete(PersonRole).where(col(PersonRole.slack_user_id).in_(part)))
        connection.execute(delete(PersonCitizenship).where(col(PersonCitizenship.slack_user_id).in_(part)))
    roles = [{"slack_user_id": p.slack_user_id, "role": r} for p in (*new, *changed) for r in sorted(p.roles)]
    countries = [
        {"slack_user_id": p.slack_user_id, "country": c}
        for p in (*new, *changed)
        for c in sorted(p.citizenships)
    ]
    if roles:
        connection.execute(insert(PersonRole), roles)
    if countries:
        connection.execute(insert(PersonCitizenship), countries)
    return len(new), len(changed), len(people) - len(new) - len(changed)
