"""scale-out: the scheduler's runs, so that each job's tick runs once across replicas

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-20 09:00:00.000000

scheduler_run holds one row per job and tick (bot/store/scheduler_runs.py): the process whose row goes
in runs the tick, the others skip it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_run",
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tick_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("started_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job", "tick_at"),
    )
    with op.batch_alter_table("scheduler_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduler_run_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduler_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduler_run_started_at"))
    op.drop_table("scheduler_run")
