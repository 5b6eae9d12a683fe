"""Putting a database into the state a test starts from, through the same code the CLI uses."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.emulator import SlackEmulator
from bot.services.directory import import_directory
from bot.store import migrate
from bot.store.db import Database
from tests.support.bot_server import FIXTURES

DIRECTORY = FIXTURES / "directory.csv"
CHANNELS = {"C0MYTHOS5": "mythos-5", "C0FABLE5": "fable-5", "C0AIMODELS": "ai-models", "C0GENERAL": "general"}


def prepare_database(url: str, directory: Path = DIRECTORY) -> None:
    db = Database(url, pool=False)
    try:
        migrate.upgrade(db)
        import_directory(db, directory, actor="test-setup")
    finally:
        db.dispose()


def add_directory_users(emulator: SlackEmulator, directory: Path = DIRECTORY) -> None:
    with directory.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            emulator.add_user(
                row["slack_user_id"],
                name=row["email"].split("@")[0],
                email=row["email"],
                real_name=row["name"],
            )
    for channel_id, name in CHANNELS.items():
        emulator.add_channel(channel_id, name)
