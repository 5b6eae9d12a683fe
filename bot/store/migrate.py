"""Schema migrations (Alembic owns the schema; the app never calls create_all outside tests).

Alembic is imported only to migrate, or to read a version table that is not the usual one row: every CLI
command checks the schema first, and importing Alembic (with Mako) took a quarter of a command's time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from bot.config import PROJECT_ROOT
from bot.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

# The newest revision in migrations/versions: what `pending` compares a database with. Kept here rather
# than found by loading every migration script; tests/integration/test_migrations.py proves it is
# Alembic's head.
SCHEMA_REVISION = "0014"


def alembic_config(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    """Alembic's configuration for the database at `database_url` and the scripts in `migrations_dir`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # ConfigParser treats % as interpolation; URLs may hold %-escapes.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


_MIGRATION_LOCK = 0x4163_6D69_6772  # PostgreSQL advisory lock key shared by every AccessBot process


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply pending migrations. Several servers starting at once on PostgreSQL take turns (an advisory
    lock held for the transaction), so each migration runs once."""
    from alembic import command

    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        if revision == "head" and _revision_of(connection) == head_revision():
            return  # nothing pending: Alembic's own run would load every migration script to find that out
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    """The revision the database at `db` is at (None: never migrated)."""
    with db.engine.connect() as connection:
        return _revision_of(connection)


def _revision_of(connection: Connection) -> str | None:
    """The database's one current revision (None: never migrated). Read straight from Alembic's version
    table, one short query, when the table exists and holds one row; anything else (a database with
    several heads, say) is left to Alembic, which reports it. Alembic's own look-up reflects the table
    first, at every start-up and every CLI command."""
    exists = _VERSION_TABLE_EXISTS.get(connection.dialect.name)
    if exists is not None and connection.execute(text(exists)).scalar():
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) == 1:
            return str(rows[0])
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


VERSION_TABLE = "alembic_version"  # Alembic's default, in the connection's default schema
_VERSION_TABLE_EXISTS = {
    "postgresql": f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL",
    "sqlite": f"SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '{VERSION_TABLE}'",
}


def head_revision() -> str:
    """The newest revision in migrations/ (SCHEMA_REVISION)."""
    return SCHEMA_REVISION


def pending(db: Database) -> bool:
    """Whether the database at `db` is not at the newest revision (never migrated, or behind)."""
    return current_revision(db) != head_revision()
