"""A fresh database for each test: a SQLite file, or (with TEST_DATABASE_URL) a new PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import normalise_url

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def using_postgres() -> bool:
    return bool(POSTGRES_URL)


@contextmanager
def fresh_database(tmp_path: Path, postgres_url: str | None = POSTGRES_URL or None) -> Iterator[str]:
    """A new empty database: a SQLite file in `tmp_path`, or, given `postgres_url`, a new PostgreSQL
    database on that server, dropped afterwards."""
    if not postgres_url:
        yield f"sqlite:///{tmp_path / f'accessbot-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin_url = make_url(normalise_url(postgres_url))
    name = f"accessbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
