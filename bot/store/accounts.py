"""Slack account state (table slack_account) and who has an App Home tab (table home_tab)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import case, update
from sqlmodel import Session, col, select

from bot.store import audit
from bot.store.db import dialect_insert
from bot.store.tables import HomeTab, SlackAccount


def deactivated(session: Session, user_ids: Collection[str]) -> set[str]:
    """Those of `user_ids` whose Slack account Slack last reported as deactivated."""
    if not user_ids:
        return set()
    found = session.exec(
        select(SlackAccount.user_id).where(
            col(SlackAccount.user_id).in_(sorted(set(user_ids))), col(SlackAccount.deleted)
        )
    )
    return set(found.all())


def checked_at(session: Session, user_id: str) -> datetime | None:
    """When Slack last said anything about the account (None: never)."""
    return session.exec(select(SlackAccount.checked_at).where(SlackAccount.user_id == user_id)).first()


def record(
    session: Session, user_id: str, *, deleted: bool, now: datetime, unchanged_since: datetime | None = None
) -> bool:
    """Store what Slack said about an account (users.info or the `user_change` event): `checked_at` is
    now, `changed_at` moves only when `deleted` changes. Safe when two replicas record at once: the
    second waits for the first and sees what it recorded. Returns whether this changes what we knew: a
    deactivation or reactivation (a first report of an active account changes nothing); a change is
    audited in the same transaction. `unchanged_since`: record nothing (False) if Slack said anything
    about the account after that moment (`checked_at`: another report came while this one was being
    confirmed, and which is newer cannot be told)."""
    table = SlackAccount.__table__  # type: ignore[attr-defined]
    # A first report inserts the row as an active account, so that there is a row to lock: two reports
    # at once then take turns, and the second reads what the first recorded (a lock on a row that does
    # not exist yet is no lock, and both would audit the same change).
    session.exec(  # type: ignore[call-overload]
        dialect_insert(session)(table)
        .values(user_id=user_id, deleted=False, checked_at=now, changed_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.user_id])
    )
    known, last_report = session.exec(
        select(SlackAccount.deleted, SlackAccount.checked_at)
        .where(SlackAccount.user_id == user_id)
        .with_for_update()
    ).one()
    if unchanged_since is not None and last_report != unchanged_since:
        return False
    session.exec(  # type: ignore[call-overload]
        update(table)
        .where(table.c.user_id == user_id)
        .values(
            deleted=deleted,
            checked_at=now,
            changed_at=case((table.c.deleted != deleted, now), else_=table.c.changed_at),
        )
    )
    changed = known != deleted
    if changed:
        audit.record(
            session,
            actor="slack",
            action="account.deactivated" if deleted else "account.reactivated",
            subject_type="person",
            subject_id=user_id,
            after={"deleted": deleted},
        )
    return changed


def remember_home(session: Session, user_id: str) -> None:
    """Note that this person has opened the App Home, so that state changes refresh it."""
    statement = dialect_insert(session)(HomeTab).values(user_id=user_id)
    session.exec(statement.on_conflict_do_nothing(index_elements=["user_id"]))  # type: ignore[call-overload]


def record_home(session: Session, user_id: str, *, view_hash: str | None, now: datetime) -> None:
    """Upsert the hash of the Home view just published to `user_id` and when (`published_at`)."""
    table = HomeTab.__table__  # type: ignore[attr-defined]
    # A hash longer than the column would only cost one hash_conflict and a re-render next time.
    stored = view_hash[:64] if view_hash else None
    statement = dialect_insert(session)(table).values(user_id=user_id, view_hash=stored, published_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={"view_hash": statement.excluded.view_hash, "published_at": statement.excluded.published_at},
    )
    session.exec(statement)  # type: ignore[call-overload]
