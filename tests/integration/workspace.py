"""Names shared by the integration tests: the emulated workspace and how a test opens its database."""

from __future__ import annotations

from bot.store.db import Database
from tests.support.seed import migrate_database

TOKEN = "xoxb-integration-token"
ALICE, BORIS = "U0ALICE01", "U0BORIS01"
GENERAL, RESEARCH = "C0GENERAL", "C0RESEARCH"


def open_database(url: str) -> Database:
    """The database as `accessbot db upgrade` leaves it: migrated to the head revision (copied from a
    migrated template, see tests/support/databases.py)."""
    migrate_database(url)
    return Database(url)
