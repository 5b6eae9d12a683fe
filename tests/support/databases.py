"""A fresh database for each test: a SQLite file, or (with TEST_DATABASE_URL) a new PostgreSQL database.

Migrating a database takes longer than copying one, so each test process migrates once per kind of
starting state (`migrated`, `seeded` with the test directory) and copies that template into each test's
database: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL, where a database whose test
is done is emptied back to its template and used again (tests/support/recycling.py). Migrations
themselves are tested from an empty database in tests/integration/test_migrations.py.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url

from bot.store.db import normalise_url
from tests.support import recycling

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def using_postgres() -> bool:
    return bool(POSTGRES_URL)


@contextmanager
def fresh_database(tmp_path: Path, postgres_url: str | None = POSTGRES_URL or None) -> Iterator[str]:
    """A new empty database: a SQLite file in `tmp_path`, or, given `postgres_url`, a new PostgreSQL
    database on that server, dropped afterwards (by a thread of this process: see _drop_later). Raises
    AssertionError when dropping an earlier one failed."""
    if not postgres_url:
        yield f"sqlite:///{tmp_path / f'accessbot-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin_url = make_url(normalise_url(postgres_url))
    name = f"accessbot_test_{uuid.uuid4().hex[:12]}"
    with _unmade_lock:
        _unmade[name] = admin_url
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with _unmade_lock:
            made = _unmade.pop(name, None) is None
            source = _filled.pop(name, None)
        if made:
            _drop_later(admin_url, name, source)


# PostgreSQL checkpoints at every DROP DATABASE (so that the checkpointer forgets the dropped files): from
# a tenth of a second to over a second on a busy server, which a test would wait for in its teardown.
# Instead threads of this process drop the databases tests are done with while the next tests run, several
# at once, as drops waiting at the same time share one checkpoint (three in a row took 3.5 s here, three at
# once 0.5 s). A test waits only while _MAX_UNDROPPED databases are being dropped, which bounds the disk
# they hold; the end of the run (drop_queued_databases) or of the process waits for the rest. A failed
# drop is raised by a later test's teardown and at the end of the run.
_MAX_UNDROPPED = 8
_undropped = threading.BoundedSemaphore(_MAX_UNDROPPED)
_drops: set[Future[None]] = set()
_drop_failures: list[str] = []
_dropper: ThreadPoolExecutor | None = None
_dropper_lock = threading.Lock()


def _drop_later(admin_url: URL, name: str, source: str | None = None) -> None:
    """Have database `name` on `admin_url`'s server dropped by the dropping threads (started on first use),
    or, when it was filled from the template database `source`, emptied back to it and kept as a spare
    (tests/support/recycling.py). Raises AssertionError if an earlier drop failed."""
    global _dropper
    _undropped.acquire()
    with _dropper_lock:
        if _dropper is None:
            _dropper = ThreadPoolExecutor(_MAX_UNDROPPED, thread_name_prefix="accessbot-test-db-drop")
        drop = (
            _dropper.submit(_drop, admin_url, name)
            if source is None
            else _dropper.submit(_recycle, admin_url, name, source)
        )
        _drops.add(drop)
    drop.add_done_callback(_dropped)
    _raise_drop_failures()


# Spare databases (server, name), emptied back to their template, by template database name; what each
# test database was filled from, by name; and each template's rows and schema.
_spares: dict[str, list[tuple[URL, str]]] = {}
_filled: dict[str, str] = {}
_snapshots: dict[str, recycling.Snapshot] = {}
_SPARES_KEPT = 4  # per template: about as many as are being emptied while the next tests start


def _recycle(admin_url: URL, name: str, source: str) -> None:
    """Empty database `name` back to template `source` and keep it as a spare under a new name; drop it
    when its schema changed or it cannot be renamed (a connection still on it)."""
    try:
        with _unmade_lock:
            enough = len(_spares.get(source, ())) >= _SPARES_KEPT
        if not enough and _empty_back(admin_url, name, source):
            spare = f"accessbot_spare_{uuid.uuid4().hex[:12]}"
            _admin(admin_url, f'ALTER DATABASE "{name}" RENAME TO "{spare}"')
            with _unmade_lock:
                _spares.setdefault(source, []).append((admin_url, spare))
            return
    except Exception:  # dropped below, as any database its test is done with
        pass
    _drop(admin_url, name)


def _empty_back(admin_url: URL, name: str, source: str) -> bool:
    others = f"FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    _admin(admin_url, f"SELECT pg_terminate_backend(pid) {others}")
    if not recycling.reset(_conninfo(admin_url.set(database=name)), _snapshots[source]):
        return False
    # Terminated sessions take a moment to end; a rename fails while any is still on the database.
    deadline = time.monotonic() + 5
    while _admin_value(admin_url, f"SELECT count(*) {others}"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _take_spare(source: str) -> str | None:
    with _unmade_lock:
        spares = _spares.get(source)
        return spares.pop()[1] if spares else None


def _take_all_spares() -> list[tuple[URL, str]]:
    with _unmade_lock:
        spares = [spare for kept in _spares.values() for spare in kept]
        _spares.clear()
    return spares


def _conninfo(url: URL) -> str:
    """libpq's URI for a SQLAlchemy URL of the psycopg driver."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _drop(admin_url: URL, name: str) -> None:
    try:
        _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as error:  # kept for a test to raise: this thread has nobody to tell
        first_line = next(iter(str(error).splitlines()), "")
        _drop_failures.append(f"{name}: {type(error).__name__}: {first_line}")


def _dropped(drop: Future[None]) -> None:
    with _dropper_lock:
        _drops.discard(drop)
    _undropped.release()


def drop_queued_databases() -> None:
    """Wait until every database tests are done with has been dropped. Raises AssertionError naming
    those that could not be."""
    settle()
    for server, name in _take_all_spares():
        _drop_later(server, name)
    settle()
    _raise_drop_failures()


def settle() -> None:
    """Wait until the databases tests are done with have been dropped or emptied back."""
    with _dropper_lock:
        waiting = list(_drops)
    wait(waiting)


def _raise_drop_failures() -> None:
    if _drop_failures:
        raise AssertionError("dropping a test database failed: " + "; ".join(_drop_failures))


# PostgreSQL databases fresh_database has named but nobody has needed yet, by name. Most tests fill theirs
# from a template at once (fill_from_template), and creating an empty one first, a copy of template1
# written through the write-ahead log, would double the server's work for every test. A database is
# created the first time something needs it: a connection from this process (_create_on_connect), or a
# subprocess about to be started on it (materialise).
_unmade: dict[str, URL] = {}
_unmade_lock = threading.Lock()


def materialise(url: str) -> None:
    """Create the PostgreSQL database at `url` if fresh_database named it and it does not exist yet;
    call before starting a process that will connect to it. Does nothing for SQLite."""
    target = make_url(normalise_url(url))
    if target.get_backend_name() == "sqlite" or not target.database:
        return
    with _unmade_lock:
        admin_url = _unmade.pop(target.database, None)
        if admin_url is not None:
            _admin(admin_url, f'CREATE DATABASE "{target.database}"')


@event.listens_for(Engine, "do_connect")
def _create_on_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
    name = cparams.get("dbname")
    if dialect.name == "postgresql" and name in _unmade:
        with _unmade_lock:
            admin_url = _unmade.pop(name, None)
            if admin_url is not None:
                _admin(admin_url, f'CREATE DATABASE "{name}"')


# One engine per server for the statements above, kept for the process's life: a new engine would cost
# each of them a server process and the dialect's first-connection queries, twice per test. Its pool
# holds one connection for each dropping thread and one for the test.
_admins: dict[URL, Engine] = {}
_admins_lock = threading.Lock()


def _admin(admin_url: URL, *statements: str) -> None:
    with _admins_lock:
        admin = _admins.get(admin_url)
        if admin is None:
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=_MAX_UNDROPPED + 1)
            _admins[admin_url] = admin
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _admin_value(admin_url: URL, query: str) -> object:
    with _admins_lock:
        admin = _admins[admin_url]
    with admin.connect() as connection:
        return connection.execute(text(query)).scalar()


@atexit.register
def _dispose_admins() -> None:
    for admin in _admins.values():
        admin.dispose()


@atexit.register
def _drop_spares() -> None:
    """A process that ends without drop_queued_databases (the benchmarks) drops its spares here."""
    for server, name in _take_all_spares():
        _drop(server, name)


# Per test process: (template name, database backend) -> its URL (a file path for SQLite). The backend is
# part of the key because one process (the benchmarks) may fill SQLite and PostgreSQL databases alike.
_templates: dict[tuple[str, str], str] = {}
_template_folder: Path | None = None


def fill_from_template(url: str, name: str, build: Callable[[str], None]) -> None:
    """Make the empty database at `url` a copy of the template `name`, which `build(url)` creates the
    first time this process asks for it (by migrating and seeding a database of its own)."""
    target = make_url(normalise_url(url))
    template = _templates.get((name, target.get_backend_name())) or _make_template(name, build, url)
    if target.get_backend_name() == "sqlite":
        shutil.copyfile(template, str(target.database))
        return
    source = str(make_url(template).database)
    with _unmade_lock:
        unmade = _unmade.pop(str(target.database), None) is not None
        _filled[str(target.database)] = source
    admin_url = target.set(database="postgres")
    drop = [] if unmade else [f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)']
    spare = _take_spare(source)
    if spare is not None:
        try:
            _admin(admin_url, *drop, f'ALTER DATABASE "{spare}" RENAME TO "{target.database}"')
            return
        except Exception:  # someone is on the spare (autovacuum): copy the template instead
            _drop_later(admin_url, spare)
            drop = []
    _admin(admin_url, *drop, f'CREATE DATABASE "{target.database}" TEMPLATE "{source}"')


def _make_template(name: str, build: Callable[[str], None], like: str) -> str:
    global _template_folder
    sample = make_url(normalise_url(like))
    if sample.get_backend_name() == "sqlite":
        if _template_folder is None:
            _template_folder = Path(tempfile.mkdtemp(prefix="accessbot-templates-"))
            atexit.register(shutil.rmtree, _template_folder, True)
        path = _template_folder / f"{name}.db"
        build(f"sqlite:///{path}")
        _templates[name, "sqlite"] = str(path)
        return str(path)
    database = f"accessbot_template_{name}_{uuid.uuid4().hex[:8]}"
    admin_url = sample.set(database="postgres")
    _admin(admin_url, f'CREATE DATABASE "{database}"')
    atexit.register(_admin, admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    url = sample.set(database=database).render_as_string(hide_password=False)
    build(url)  # must dispose its engine: PostgreSQL copies only a template nobody is connected to
    _snapshots[database] = recycling.snapshot(_conninfo(sample.set(database=database)))
    _templates[name, sample.get_backend_name()] = url
    return url
