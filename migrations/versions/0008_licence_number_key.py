"""licences told apart by a case-folded key: one index lookup per licence on import

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:10:00.000000

A licence is named by its authority and number without regard to case. The lookup compared lower() of
both columns, which no index serves, so an import of N licences read the whole table N times; and
SQLite's lower() folds ASCII only, so `ÄB-1` and `äb-1` were two licences there and one in Python.
number_key holds the case-folded pair (bot/domain/licences.py number_key), written with the licence and
unique, replacing the case-sensitive unique constraint on (authority, number) that it implies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.domain.licences import number_key

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("licence") as batch_op:
        batch_op.add_column(sa.Column("number_key", sa.Text(), nullable=True))
    licence = sa.table(
        "licence", sa.column("id"), sa.column("authority"), sa.column("number"), sa.column("number_key")
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(licence.c.id, licence.c.authority, licence.c.number)).all()
    if rows:
        bind.execute(
            licence.update().where(licence.c.id == sa.bindparam("row_id")),
            [{"row_id": row.id, "number_key": number_key(row.authority, row.number)} for row in rows],
        )
    # Numbers that differ only in case, recorded before this revision, would now collide: the upgrade
    # stops on the unique index below, naming the key, and export compliance decides which one stands.
    with op.batch_alter_table("licence") as batch_op:
        batch_op.alter_column("number_key", existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint("uq_licence_number", type_="unique")
        batch_op.create_unique_constraint("uq_licence_number_key", ["number_key"])


def downgrade() -> None:
    with op.batch_alter_table("licence") as batch_op:
        batch_op.drop_constraint("uq_licence_number_key", type_="unique")
        batch_op.create_unique_constraint("uq_licence_number", ["authority", "number"])
        batch_op.drop_column("number_key")
