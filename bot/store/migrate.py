"""Schema migrations (Alembic owns the schema; the app never calls create_all outside tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.config import PROJECT_ROOT
from bot.store.db import Database

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # ConfigParser treats % as interpolation; URLs may hold %-escapes.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


_MIGRATION_LOCK = 0x4163_6D69_6772  # PostgreSQL advisory lock key shared by every AccessBot process


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply pending migrations. Several servers starting at once on PostgreSQL take turns (an advisory
    lock held for the transaction), so each migration runs once."""
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def pending(db: Database) -> bool:
    return current_revision(db) != head_revision()
