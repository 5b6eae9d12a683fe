"""Schema migrations (Alembic owns the schema; the app never calls create_all outside tests).

Alembic is imported only to migrate, or to read a version table that is not the usual one row: every CLI
command checks the schema first, and importing Alembic (with Mako) took a quarter of a command's time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from bot.config import PROJECT_ROOT, ConfigError
from bot.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

# The newest revision in migrations/versions: what `pending` compares a database with. Kept here rather
# than found by loading every migration script; tests/integration/test_migrations.py proves it is
# Alembic's head.
SCHEMA_REVISION = "0014"


class SchemaUnclear(ConfigError):
    """The version table names no single revision (several rows): Alembic cannot tell the schema's."""


class SchemaAhead(ConfigError):
    """The database was migrated by a newer release: its revision is none of this release's migrations.
    Nothing this release does can bring it up to date (a rolling upgrade restarted an old replica)."""


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
        current = _revision_of(connection)
        if revision == "head" and current == head_revision():
            return  # nothing pending: Alembic's own run would load every migration script to find that out
        require_known(current)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    """The revision the database at `db` is at (None: never migrated)."""
    with db.engine.connect() as connection:
        return _revision_of(connection)


def _revision_of(connection: Connection) -> str | None:
    """The database's one current revision (None: never migrated). Read straight from Alembic's version
    table, one short query, when the table exists and holds one row; anything else (a database with
    several heads, say) is left to Alembic, and raises SchemaUnclear when Alembic cannot name one.
    Alembic's own look-up reflects the table first, at every start-up and every CLI command."""
    exists = _VERSION_TABLE_EXISTS.get(connection.dialect.name)
    if exists is not None and connection.execute(text(exists)).scalar():
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) == 1:
            return str(rows[0])
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    try:
        return MigrationContext.configure(connection).get_current_revision()
    except CommandError as error:  # several rows: "more than one head"
        raise SchemaUnclear(
            f"the database's {VERSION_TABLE} table names more than one revision, so its schema cannot be "
            f"told ({error}); have it name the one the schema is at"
        ) from None


VERSION_TABLE = "alembic_version"  # Alembic's default, in the connection's default schema
_VERSION_TABLE_EXISTS = {
    "postgresql": f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL",
    "sqlite": f"SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '{VERSION_TABLE}'",
}


def head_revision() -> str:
    """The newest revision in migrations/ (SCHEMA_REVISION)."""
    return SCHEMA_REVISION


def known_revisions() -> frozenset[str]:
    """The revisions of this release's migrations: each script in migrations/versions is named after its
    revision (`0014_scheduler_runs.py`), which tests/integration/test_migrations.py checks."""
    return frozenset(path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("*_*.py"))


def require_known(revision: str | None) -> None:
    """Raises SchemaAhead when `revision` (a database's, None: never migrated) is not one of this
    release's migrations."""
    if revision is not None and revision not in known_revisions():
        raise SchemaAhead(
            f"the database schema is at revision {revision}, newer than this release of AccessBot knows "
            f"(its latest is {head_revision()}): run the release that migrated it, or a later one"
        )


def pending(db: Database) -> bool:
    """Whether the database at `db` is not at the newest revision (never migrated, or behind). Raises
    SchemaAhead when a newer release migrated it: waiting or `accessbot db upgrade` cannot help."""
    revision = current_revision(db)
    if revision == head_revision():
        return False
    require_known(revision)
    return True
