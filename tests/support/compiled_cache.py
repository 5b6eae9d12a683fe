"""One compiled-statement cache for every engine a test process makes.

SQLAlchemy keeps the SQL it compiled from each statement in a cache of the engine's own, keyed by the
engine's dialect object. A server runs one engine for its whole life; a test process makes one or more
per test (each test has its own database), so every test compiled the same few hundred statements anew:
about a sixth of the CPU of an in-process end-to-end test. Here the engines of one process share a cache
whose keys name the dialect by what its SQL depends on (its class, server version and parameter style),
not by the object: each statement is compiled once per process and kind of database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.util import LRUCache
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401  (every mapper, before their caches are replaced)

_SIZE = 20_000  # compiled statements; the suite has a few thousand shapes on each database


def _dialect_signature(dialect: Dialect) -> tuple[Any, ...]:
    return (
        type(dialect),
        dialect.server_version_info,
        dialect.paramstyle,
        dialect.positional,
        dialect.label_length,
        dialect.max_identifier_length,
        dialect.default_schema_name,
    )


class SharedCompiledCache(LRUCache):  # type: ignore[type-arg]
    """An LRU cache of compiled statements whose keys' first item (the dialect) is replaced by the
    dialect's signature."""

    @staticmethod
    def _key(key: Any) -> Any:
        if isinstance(key, tuple) and key and isinstance(key[0], Dialect):
            return (_dialect_signature(key[0]), *key[1:])
        return key

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(self._key(key))


_shared = SharedCompiledCache(_SIZE)


def _share(connection: Connection) -> None:
    connection.execution_options(compiled_cache=_shared)


def share_compiled_statements() -> None:
    """From now on every connection of this process compiles into the shared cache, and the ORM's
    flushes (a cache of each mapper's own, also keyed by dialect object) into one like it."""
    if not event.contains(Engine, "engine_connect", _share):
        event.listen(Engine, "engine_connect", _share)
    for mapper in SQLModel._sa_registry.mappers:
        mapper.__dict__["_compiled_cache"] = SharedCompiledCache(mapper._compiled_cache_size)
