"""Putting a database into the state a test starts from, through the same code the CLI uses."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.services.context import Context
from bot.services.directory import import_directory
from bot.store import migrate
from bot.store.db import Database
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES
from tests.support.databases import fill_from_template
from tests.support.slack import SlackEmulator

DIRECTORY = FIXTURES / "directory.csv"
CHANNELS = {"C0MYTHOS5": "mythos-5", "C0FABLE5": "fable-5", "C0AIMODELS": "ai-models", "C0GENERAL": "general"}


def prepare_database(url: str, directory: Path = DIRECTORY) -> None:
    """Migrate the empty database at `url` and import `directory` into it, as `accessbot db upgrade` and
    `accessbot directory import` would (the standard directory comes from a per-process template)."""
    if directory == DIRECTORY:
        fill_from_template(url, "seeded", _seed)
    else:
        _seed(url, directory)


def migrate_database(url: str) -> None:
    """Migrate the empty database at `url` to the head revision (from a per-process template)."""
    fill_from_template(url, "migrated", _migrate)


def _migrate(url: str) -> None:
    db = Database(url, pool=False)
    try:
        migrate.upgrade(db)
    finally:
        db.dispose()


def _seed(url: str, directory: Path = DIRECTORY) -> None:
    db = Database(url, pool=False)
    try:
        migrate.upgrade(db)
        import_directory(
            Context(db=db, catalog=load_catalog(FIXTURES / "workflows")), directory, actor="test-setup"
        )
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
        # Public channels the bot was never invited to: it may post (chat:write.public), not read.
        emulator.add_channel(channel_id, name, bot_is_member=False)


def holders_in_slack(emulator: SlackEmulator, url: str, user_ids: list[str], model: str) -> None:
    """A workspace and a database where `user_ids` hold active grants of `model` (as `add_grants`): the
    test directory's people and channels, and those holders, in the emulator; the database prepared."""
    add_directory_users(emulator)
    for user in user_ids:
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@example.com")
    prepare_database(url)
    add_grants(url, user_ids, model)


def add_grants(url: str, user_ids: list[str], model: str, days: int = 30) -> None:
    """Active grants put straight into the database, for tests about what happens to many of them. Their
    holders are added to the directory too (non-US persons working in Germany, German citizens), unless
    it lists them already: the entitlement rule suspends a grant of someone the directory does not list."""
    from datetime import timedelta

    from sqlalchemy import insert
    from sqlmodel import col, select

    from bot.store.tables import AccessGrant, Person, PersonCitizenship
    from bot.store.types import utcnow

    db = Database(url, pool=False)
    now = utcnow()
    try:
        with db.uow() as uow:
            listed = set(
                uow.session.exec(select(Person.slack_user_id).where(col(Person.slack_user_id).in_(user_ids)))
            )
            new = [u for u in user_ids if u not in listed]
            connection = uow.session.connection()
            if new:
                connection.execute(
                    insert(Person),
                    [
                        {"slack_user_id": u, "email": f"{u.lower()}@example.com", "name": u,
                         "work_country": "DE", "us_person": False, "created_at": now, "updated_at": now}
                        for u in new
                    ],
                )  # fmt: skip
                connection.execute(
                    insert(PersonCitizenship), [{"slack_user_id": u, "country": "DE"} for u in new]
                )
            uow.session.add_all(
                AccessGrant(
                    user_id=u,
                    model=model,
                    status="active",
                    starts_at=now,
                    expires_at=now + timedelta(days=days),
                )
                for u in user_ids
            )
            uow.commit()
    finally:
        db.dispose()


def directory_file(
    tmp_path: Path, name: str, *, drop: tuple[str, ...] = (), **changes: dict[str, str]
) -> Path:
    """The test directory with some people left out and some cells changed (user id -> column -> value)."""
    with DIRECTORY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            if row["slack_user_id"] in drop:
                continue
            writer.writerow({**row, **changes.get(row["slack_user_id"], {})})
    return path
