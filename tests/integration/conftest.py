"""Fixtures for the store and delivery tests: a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set) and a Slack emulator with a few people and channels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.services.context import Context
from bot.services.directory import import_directory
from bot.store.db import Database
from bot.workflows import load_catalog
from tests.integration.workspace import ALICE, BORIS, GENERAL, RESEARCH, TOKEN, open_database
from tests.support.bot_server import FIXTURES
from tests.support.history import START, Clock
from tests.support.seed import DIRECTORY
from tests.support.slack import SlackEmulator


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def ctx(db: Database) -> Context:
    """The services on `db` with the fixture workflows and directory, on a clock standing at START."""
    context = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"), clock=Clock(START))
    import_directory(context, DIRECTORY, actor="test")
    return context


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN) as emulator:
        emulator.add_user(ALICE, "alice", "alice@example.com", "Alice Chen")
        emulator.add_user(BORIS, "boris", "boris@example.com", "Boris Ivanov")
        emulator.add_channel(GENERAL, "general")
        emulator.add_channel(RESEARCH, "research")
        yield emulator
