"""Engine factory and unit of work. No module-level engine: the entry point builds one and injects it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from bot.store.types import UNSTAMPED, stamped_at_flush, utcnow

_READONLY = "accessbot_readonly"
# How long a SQLite writer waits for the lock before it gives up with "database is locked".
SQLITE_BUSY_SECONDS = 30
# How long opening a PostgreSQL connection may take, in seconds (libpq's `connect_timeout`), unless the
# URL sets it: without one, a database host that drops packets holds every new connection for the
# operating system's TCP timeout, minutes, while requests wait on the pool.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
# session.info key set by bot/notify/outbox.py when a transaction queues a message.
OUTBOX_QUEUED = "outbox_queued"
# session.info key: the clock that stamps what the transaction writes (see now_of).
CLOCK = "clock"
# session.info key: which webhook receivers each event type goes to (bot/store/webhooks.py).
WEBHOOK_ROUTES = "webhook_routes"


def dialect_insert(session: Session) -> Any:
    """The dialect's INSERT construct: both PostgreSQL's and SQLite's support ON CONFLICT, for inserts and
    upserts that race safely between replicas."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def normalise_url(url: str) -> str:
    """Accept the URLs people write for PostgreSQL and use the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool: bool = True) -> Engine:
    """An engine for `url` (SQLite or PostgreSQL, see normalise_url), pooled unless `pool` is False.
    PostgreSQL connections run without JIT and give up opening after POSTGRES_CONNECT_TIMEOUT_SECONDS,
    unless the URL's query sets `options` or `connect_timeout` itself."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
            poolclass=None if pool else NullPool,
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    # hide_parameters: an error logged with its SQL must not carry justifications or directory facts.
    # use_native_hstore=False: no hstore column exists, and looking the type up costs every new engine a
    # round trip to the server before its first statement.
    options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True, "use_native_hstore": False}
    connect_args: dict[str, Any] = {}
    if "options" not in parsed.query:
        # No JIT compilation: PostgreSQL compiles a statement whose estimated cost passes jit_above_cost,
        # which the set-based re-check and directive statements over 100,000 grants do, at 0.1 to 0.6 s
        # a statement, more than it then saves on the row-at-a-time writes they are made of.
        connect_args["options"] = "-c jit=off"
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_SECONDS
    options["connect_args"] = connect_args
    if pool:
        options.update(pool_size=10, max_overflow=20)
    else:
        options["poolclass"] = NullPool
    return create_engine(url, **options)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE can be issued below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A write transaction takes SQLite's write lock up front: two writers then queue instead of
        # both reading, both deciding and one failing (or worse, both acting) at commit.
        readonly = connection.get_execution_options().get(_READONLY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


Clock = Callable[[], datetime]


def one_snapshot(session: Session) -> None:
    """Make every statement of this read session see the database as of one instant, whatever commits
    meanwhile: a check that reads in several statements must not see a row in neither (an event sealed
    between reading the sealed ones and the unsealed ones). Call it before the session's first query.
    SQLite's read transaction is one snapshot already (write-ahead log, BEGIN before the first read);
    PostgreSQL's default, READ COMMITTED, takes a new one per statement, so it reads at REPEATABLE
    READ (postgresql.org/docs/current/transaction-iso.html)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def now_of(session: Session) -> datetime:
    """The time by the clock of the transaction's owner (Database, or the Context that opened it), so that
    every timestamp a transaction writes comes from one injected clock; real UTC time without one."""
    clock = session.info.get(CLOCK)
    return clock() if clock is not None else utcnow()


def _stamp_columns(model: type) -> tuple[str, ...]:
    fields = getattr(model, "model_fields", {})
    return tuple(name for name, info in fields.items() if info.default_factory is stamped_at_flush)


_STAMPS: dict[type, tuple[str, ...]] = {}


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    """Give every new row's unset timestamp columns the time of the transaction's clock (now_of)."""
    now: datetime | None = None
    for row in session.new:
        model = type(row)
        names = _STAMPS.get(model)
        if names is None:
            names = _STAMPS[model] = _stamp_columns(model)
        for name in names:
            if getattr(row, name) == UNSTAMPED:
                now = now or now_of(session)
                setattr(row, name, now)


class Database:
    def __init__(self, url: str, *, pool: bool = True, clock: Clock = utcnow):
        self.url = normalise_url(url)
        # The default clock of every session opened here; a Context may open sessions with its own.
        self.clock = clock
        self.engine = make_engine(self.url, pool=pool)
        self._readonly_engine = self.engine.execution_options(**{_READONLY: True})
        # Called after a commit that queued outgoing messages, so the sender need not wait for its poll.
        self.on_outbox_commit: list[Callable[[], None]] = []
        # Event type -> the webhook receivers subscribed to it (workflows/webhooks.yaml): every
        # transaction opened here records those events (bot/store/webhooks.py).
        self.webhook_routes: Mapping[str, tuple[str, ...]] = {}
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in steps that
        # grow to 100 ms (its busy handler) before it looks again: two threads of this process writing
        # at once cost the second up to a few hundred milliseconds more than the first one's
        # transaction. They queue here instead and go the moment it ends; other processes (the CLI, a
        # worker) still meet the busy handler. PostgreSQL locks rows, and wakes waiters itself.
        self._writer = WriterQueue() if self.engine.dialect.name == "sqlite" else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def uow(self, clock: Clock | None = None) -> UnitOfWork:
        return UnitOfWork(
            self.engine, self.on_outbox_commit, clock or self.clock, self.webhook_routes, self._writer
        )

    @contextmanager
    def read(self, clock: Clock | None = None) -> Iterator[Session]:
        """A session for queries only; it never commits."""
        # Closing (not rolling back) ends the transaction but keeps loaded objects readable.
        with Session(self._readonly_engine, expire_on_commit=False) as session:
            session.info[CLOCK] = clock or self.clock
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class WriterQueue:
    """The write transactions of one process on SQLite, one at a time (see Database). A transaction that
    has waited as long as SQLite's own busy timeout goes ahead without its turn, to meet SQLite's lock
    and its error as it did before, rather than wait here for ever."""

    def __init__(self, timeout: float = SQLITE_BUSY_SECONDS):
        self._lock = threading.RLock()
        self._timeout = timeout

    def join(self) -> bool:
        """Wait for this thread's turn; False when it went ahead without one."""
        return self._lock.acquire(timeout=self._timeout)

    def leave(self) -> None:
        self._lock.release()


class UnitOfWork:
    """One transaction: `with db.uow() as uow: ...; uow.commit()`. Anything not committed rolls back."""

    def __init__(
        self,
        engine: Engine,
        on_outbox_commit: list[Callable[[], None]] | None = None,
        clock: Clock = utcnow,
        webhook_routes: Mapping[str, tuple[str, ...]] | None = None,
        writer: WriterQueue | None = None,
    ):
        self._engine = engine
        # Held from the start of the transaction to its end (see Database: SQLite's writers queue here).
        self._writer = writer
        self._queued = False
        self._on_outbox_commit = on_outbox_commit or []
        self._clock = clock
        self._webhook_routes = webhook_routes or {}
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self._queued = self._writer is not None and self._writer.join()
        self.session = Session(self._engine, expire_on_commit=False)
        self.session.info[CLOCK] = self._clock
        self.session.info[WEBHOOK_ROUTES] = self._webhook_routes
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed; loaded objects stay readable afterwards.
        try:
            self.session.close()
        finally:
            if self._queued and self._writer is not None:
                self._writer.leave()

    def commit(self) -> None:
        queued = self.session.info.pop(OUTBOX_QUEUED, False)
        self.session.commit()
        if queued:
            for callback in self._on_outbox_commit:
                callback()
