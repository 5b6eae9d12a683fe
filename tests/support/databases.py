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
def fresh_database(tmp_path: Path) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'accessbot.db'}"
        return
    admin_url = make_url(normalise_url(POSTGRES_URL))
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
