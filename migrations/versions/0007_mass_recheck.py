"""mass re-checks: no per-row foreign-key checks on grant_hold and recheck_change; recheck_reason
unlogged; licences found by holder and status

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:52:00.000000

A re-check that suspends or reinstates 50,000 grants writes 50,000 rows into each of grant_hold and
recheck_change in one INSERT … SELECT whose rows come from a join with the very grant and re-check they
point at. A foreign key adds nothing there, yet PostgreSQL checks it with one trigger call (an index
probe and a row lock) per inserted row, a third of the statement's time. Grants and re-checks that
changed something are never deleted.

recheck_reason holds rows only inside one re-check's transaction (deleted before it commits), so on
PostgreSQL it is UNLOGGED: its writes skip the write-ahead log, and a crash can only empty a table that
is empty whenever no re-check is running.

The coverage rule looks up a person's active licences once per person and model. With an index on
status alone, SQLite (which keeps no statistics) chose it, reading every active licence for every
person: a require-licence directive over 100,000 grants took minutes. One index on (holder_id, status)
serves that lookup and the holder's list; status alone is not worth an index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The foreign keys dropped: (table, column, referred table). SQLite's are unnamed: batch mode names them
# by this convention to find them; PostgreSQL's carry its default name, <table>_<column>_fkey.
FOREIGN_KEYS = (("grant_hold", "grant_id", "access_grant"), ("recheck_change", "recheck_id", "recheck"))
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for table, column, referred in FOREIGN_KEYS:
        if _postgresql():
            op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")
        else:
            with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch_op:
                batch_op.drop_constraint(f"fk_{table}_{column}_{referred}", type_="foreignkey")
    if _postgresql():
        op.execute("ALTER TABLE recheck_reason SET UNLOGGED")
    with op.batch_alter_table("licence") as batch_op:
        batch_op.drop_index("ix_licence_status")
        batch_op.drop_index("ix_licence_holder_id")
        batch_op.create_index("ix_licence_holder_status", ["holder_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("licence") as batch_op:
        batch_op.drop_index("ix_licence_holder_status")
        batch_op.create_index("ix_licence_holder_id", ["holder_id"], unique=False)
        batch_op.create_index("ix_licence_status", ["status"], unique=False)
    if _postgresql():
        op.execute("ALTER TABLE recheck_reason SET LOGGED")
    for table, column, referred in FOREIGN_KEYS:
        if _postgresql():
            op.create_foreign_key(f"{table}_{column}_fkey", table, referred, [column], ["id"])
        else:
            with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch_op:
                batch_op.create_foreign_key(f"fk_{table}_{column}_{referred}", referred, [column], ["id"])
