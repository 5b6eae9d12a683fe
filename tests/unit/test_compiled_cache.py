"""The test processes' shared compiled-statement cache (tests/support/compiled_cache.py): a statement
compiled for one engine is reused by the next engine of the same kind, and gives that engine's rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import column, create_engine, select, table, text


def test_a_second_engine_reuses_what_the_first_compiled(tmp_path: Path) -> None:
    numbers = table("numbers", column("n"))
    statement = select(numbers.c.n).where(numbers.c.n > 1).order_by(numbers.c.n)
    found = []
    for name, rows in (("one", (1, 2, 3)), ("two", (5, 6))):
        engine = create_engine(f"sqlite:///{tmp_path / name}.db")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE numbers (n INTEGER)"))
            connection.execute(text("INSERT INTO numbers VALUES (:n)"), [{"n": n} for n in rows])
            result = connection.execute(statement)
            found.append((result.context.cache_hit, [n for (n,) in result]))
        engine.dispose()
    dialect = engine.dialect
    assert found == [(dialect.CACHE_MISS, [2, 3]), (dialect.CACHE_HIT, [5, 6])]
