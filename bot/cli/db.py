"""`accessbot db upgrade` and `db current`: the schema's migrations (Alembic)."""

from __future__ import annotations

import argparse

from bot.cli.common import database
from bot.cli.output import safe
from bot.config import Settings


def upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply pending migrations and print the revision reached."""
    from bot.store import migrate

    db = database(settings)
    migrate.upgrade(db)
    print(f"database is at revision {safe(migrate.current_revision(db))}")
    return 0


def current(settings: Settings, args: argparse.Namespace) -> int:
    """Print the schema revision (`empty` before the first upgrade) and whether it is the latest."""
    from bot.store import migrate

    db = database(settings)
    revision, head = migrate.current_revision(db), migrate.head_revision()
    if revision == head:
        state = "up to date"
    elif revision is None or revision in migrate.known_revisions():
        state = f"behind (latest is {head}; run `accessbot db upgrade`)"
    else:
        state = f"newer than this release of AccessBot (its latest is {head})"
    print(f"{safe(revision or 'empty')}: {safe(state)}")
    return 0
