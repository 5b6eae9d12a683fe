"""Personal keys and the gateway's marks on grants, as stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from bot.store import audit
from bot.store.db import dialect_insert
from bot.store.directory import chunks
from bot.store.tables import GatewayCheck, Person, PersonalKey


def add_key(session: Session, user_id: str, key_digest: str, hint: str, now: datetime) -> PersonalKey:
    """Store a new key of `user_id` (its digest and hint only); flushed, so it has its id."""
    row = PersonalKey(user_id=user_id, digest=key_digest, hint=hint, created_at=now)
    session.add(row)
    session.flush()
    return row


def key_by_digest(session: Session, key_digest: str) -> PersonalKey | None:
    return session.exec(select(PersonalKey).where(PersonalKey.digest == key_digest)).first()


def lock_key(session: Session, key_id: int) -> PersonalKey | None:
    """The key, locked for this transaction (PostgreSQL; SQLite serialises writers anyway)."""
    return session.exec(select(PersonalKey).where(PersonalKey.id == key_id).with_for_update()).first()


def keys_of(session: Session, user_id: str | None = None, *, active_only: bool = False) -> list[PersonalKey]:
    """Keys, newest first: `user_id`'s, or everyone's; unrevoked ones only with `active_only`."""
    query = select(PersonalKey).order_by(col(PersonalKey.id).desc())
    if user_id is not None:
        query = query.where(PersonalKey.user_id == user_id)
    if active_only:
        query = query.where(col(PersonalKey.revoked_at).is_(None))
    return list(session.exec(query).all())


def lock_keyholder(session: Session, user_id: str) -> None:
    """Lock the person's directory row for this transaction (PostgreSQL; SQLite serialises writers
    anyway), so that two key requests at once cannot both count the keys and both add one."""
    row = select(Person.slack_user_id).where(Person.slack_user_id == user_id)
    session.exec(row.with_for_update()).first()


def revoke_keys_of(session: Session, user_ids: Sequence[str], now: datetime, actor: str, reason: str) -> int:
    """Revoke every unrevoked key of these people, each audited (`key.revoked`); returns how many."""
    revoked = 0
    for part in chunks(list(user_ids)):
        unrevoked = col(PersonalKey.user_id).in_(part) & col(PersonalKey.revoked_at).is_(None)
        # Locked first: a key its owner is revoking at this moment is waited for, and left out once
        # the owner's revocation commits, rather than audited as revoked a second time.
        ids = list(session.exec(select(PersonalKey.id).where(unrevoked).with_for_update()))
        if not ids:
            continue
        theirs = col(PersonalKey.id).in_(ids)
        audit.record_rows(
            session, now, actor, "key.revoked", "key", PersonalKey.id,
            before={"revoked": False}, after={"revoked": True}, detail={"reason": reason}, where=theirs,
        )  # fmt: skip
        result = session.exec(  # type: ignore[call-overload]
            update(PersonalKey)
            .where(theirs)
            .values(revoked_at=now, revoked_by=actor[:64], revoke_reason=reason)
            .execution_options(synchronize_session=False)
        )
        revoked += max(int(result.rowcount or 0), 0)
    return revoked


def count_active(session: Session, user_id: str) -> int:
    return int(
        session.exec(
            select(func.count()).where(PersonalKey.user_id == user_id, col(PersonalKey.revoked_at).is_(None))
        ).one()
    )


def mark_key_used(session: Session, key_ids: Sequence[int], now: datetime) -> None:
    """Record that these keys were presented to a gateway at `now`."""
    if key_ids:
        session.exec(  # type: ignore[call-overload]
            update(PersonalKey).where(col(PersonalKey.id).in_(key_ids)).values(last_used_at=now)
        )


def mark_checked(session: Session, checks: Iterable[tuple[int, bool]], now: datetime) -> None:
    """Record the last gateway check of each grant: (grant id, whether it was allowed)."""
    rows = [{"grant_id": grant_id, "checked_at": now, "allowed": allowed} for grant_id, allowed in checks]
    if not rows:
        return
    insert = dialect_insert(session)(GatewayCheck)
    session.exec(  # type: ignore[call-overload]
        insert.values(rows).on_conflict_do_update(
            index_elements=["grant_id"],
            set_={"checked_at": insert.excluded.checked_at, "allowed": insert.excluded.allowed},
        )
    )


def last_checks(session: Session, grant_ids: Sequence[int]) -> dict[int, GatewayCheck]:
    """The last gateway check of each of these grants that has one."""
    if not grant_ids:
        return {}
    rows = session.exec(select(GatewayCheck).where(col(GatewayCheck.grant_id).in_(grant_ids))).all()
    return {row.grant_id: row for row in rows}
