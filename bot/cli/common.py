"""What the commands share: the usage error and exit codes, the database (checked for pending migrations),
the services' context, and who is running the command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.domain.text import clean_text

if TYPE_CHECKING:
    from bot.services.context import Context
    from bot.store.db import Database

EXIT_USAGE = 2
EXIT_FAILURE = 1

# A command's handler: the settings and the parsed arguments in, the exit code out.
Command = Callable[[Settings, argparse.Namespace], int]


class UsageError(Exception):
    """Bad input from the person at the terminal: one line, exit code 2."""


def database(settings: Settings) -> Database:
    """The database of DATABASE_URL, whatever its schema revision (for `accessbot db`), on the program's
    clock (ACCESSBOT_CLOCK_FILE, else real time): what a command stamps or checks against now follows
    it. Raises ConfigError when the clock file cannot be read."""
    from bot.clock import clock_for
    from bot.store.db import Database

    return Database(settings.database_url, clock=clock_for(settings.clock_file))


def require_schema(db: Database) -> None:
    """Raises UsageError unless every migration has been applied."""
    from bot.store import migrate

    if migrate.pending(db):
        raise UsageError("the database schema is not up to date; run `accessbot db upgrade` first")


def ready_database(settings: Settings) -> Database:
    """The database, once it is known to be at the latest schema revision (else UsageError)."""
    db = database(settings)
    require_schema(db)
    return db


def ready_context(settings: Settings) -> Context:
    """What the use cases need (database, catalog, templates, clock), the schema checked as by
    ready_database. Raises ConfigError or WorkflowError when the settings or workflows/ are wrong."""
    from bot.runtime import build_context

    ctx = build_context(settings)
    require_schema(ctx.db)
    return ctx


def actor() -> str:
    """Who is running this command, for the audit trail: the operating-system user name comes from the
    environment and may hold anything, so it is cleaned like other text and cut to the actor column's
    64 characters (PostgreSQL would refuse a longer one and SQLite keep it)."""
    from bot.store.audit import cli_actor

    return clean_text(cli_actor())[:64]
