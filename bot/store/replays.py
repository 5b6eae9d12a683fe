"""Replay memory: signed Slack requests already taken in (see bot/slack/edge.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from bot.store.db import dialect_insert
from bot.store.tables import SeenRequest


def remember(session: Session, key: str, until: datetime) -> bool:
    """Record `key`; True the first time, False when it was already recorded (by any replica)."""
    statement = (
        dialect_insert(session)(SeenRequest)
        .values(key=key, expires_at=until)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SeenRequest.key)  # rowcount is not reliable here on psycopg; a returned row is
    )
    return session.exec(statement).first() is not None  # type: ignore[call-overload]


def forget_expired(session: Session, now: datetime) -> int:
    """Drop keys whose requests could no longer pass the signature check; returns how many."""
    result = session.exec(delete(SeenRequest).where(col(SeenRequest.expires_at) < now))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
