"""Test databases on PostgreSQL used again instead of dropped: a database filled from a template is, once
its test is done, emptied back to the template's rows and kept for a later test of the same process.

Copying a template (`CREATE DATABASE … TEMPLATE`) writes every page of it, the system catalogs included,
through the write-ahead log, and dropping a database makes the server checkpoint: between them, the
largest share of the server's work in a PostgreSQL run of the suite. Emptying a database is a TRUNCATE
of its tables and a COPY of the few rows its template holds.

A database is only used again when its schema is the template's (same tables, columns, indexes,
constraints and migration revision, compared by fingerprint); anything else (a test that downgraded the
schema, say) is dropped as before. Identity sequences are set back to the template's values, so ids
start where they would in a fresh copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

# The schema's fingerprint: every relation of the public schema with its kind, columns and index
# definition, every constraint, and the migration revision.
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, '|' ORDER BY item), '')) FROM (
    SELECT concat_ws(':', c.relname, c.relkind, pg_get_indexdef(c.oid), (
        SELECT string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull),
                          ',' ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
    UNION ALL
    SELECT conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'revision:' || version_num FROM alembic_version
) AS schema(item)
"""
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
_SEQUENCES = "SELECT sequencename, last_value, start_value FROM pg_sequences WHERE schemaname = 'public'"


@dataclass(frozen=True)
class Snapshot:
    """What a template database holds: its schema's fingerprint, each table's rows (COPY text, empty
    tables left out) and each sequence's last value (None: never used, with its start value)."""

    fingerprint: str
    tables: tuple[str, ...]
    rows: dict[str, bytes]
    sequences: dict[str, tuple[int | None, int]]


def _connect(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(conninfo, autocommit=True)


def snapshot(conninfo: str) -> Snapshot:
    """Read the template database at `conninfo` (a libpq connection string)."""
    with _connect(conninfo) as connection:
        fingerprint = str(connection.execute(_FINGERPRINT).fetchone()[0])  # type: ignore[index]
        tables = tuple(str(name) for (name,) in connection.execute(_TABLES))
        rows = {}
        for table in tables:
            copied = bytearray()
            statement = sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))
            with connection.cursor().copy(statement) as copy:
                for block in copy:
                    copied += block
            if copied:
                rows[table] = bytes(copied)
        sequences = {
            str(name): (None if last is None else int(last), int(start))
            for name, last, start in connection.execute(_SEQUENCES)
        }
    return Snapshot(fingerprint, tables, rows, sequences)


def reset(conninfo: str, template: Snapshot) -> bool:
    """Empty the database at `conninfo` back to `template`'s rows and sequences, in one transaction;
    False (and nothing changed) when its schema is no longer the template's."""
    with _connect(conninfo) as connection:
        if str(connection.execute(_FINGERPRINT).fetchone()[0]) != template.fingerprint:  # type: ignore[index]
            return False
        with connection.transaction():
            tables = [t for t in template.tables if t != "alembic_version"]
            names = sql.SQL(", ").join(map(sql.Identifier, tables))
            connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(names))
            for table in tables:
                if table in template.rows:
                    statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))
                    with connection.cursor().copy(statement) as copy:
                        copy.write(template.rows[table])
            for name, (last, start) in template.sequences.items():
                value, called = (start, False) if last is None else (last, True)
                quoted = sql.Identifier(name).as_string(connection)
                connection.execute(
                    "SELECT setval(%s::regclass, %s::bigint, %s::boolean)", (quoted, value, called)
                )
    return True
