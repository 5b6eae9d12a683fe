"""Fixtures of the unit tests that prove a rule's SQL form agrees with its Python form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.store.db import Database
from bot.store.migrate import upgrade


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The test's database (SQLite, or TEST_DATABASE_URL's PostgreSQL) at the latest schema."""
    db = Database(database_url)
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
