"""directives

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 04:36:07.912641
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("authority", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("population", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("effective_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("issued_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("issued_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("activated_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("lifted_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lifted_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.Column("progress_outbox_id", sa.Integer(), nullable=True),
        sa.Column("progress_reported", sa.JSON(), nullable=True),
        sa.Column("created_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_effective_at"), ["effective_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_directive_status"), ["status"], unique=False)

    op.create_table(
        "directive_country",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
        ),
        sa.PrimaryKeyConstraint("directive_id", "country"),
    )
    op.create_table(
        "directive_model",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
        ),
        sa.PrimaryKeyConstraint("directive_id", "model"),
    )
    with op.batch_alter_table("directive_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_model_model"), ["model"], unique=False)

    op.create_table(
        "directive_user",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
        ),
        sa.PrimaryKeyConstraint("directive_id", "user_id"),
    )
    op.create_table(
        "grant_suspension",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("suspended_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("released_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("reinstated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["access_grant.id"],
        ),
        sa.PrimaryKeyConstraint("grant_id", "directive_id"),
    )
    with op.batch_alter_table("grant_suspension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grant_suspension_directive_id"), ["directive_id"], unique=False)
        batch_op.create_index("ix_grant_suspension_open", ["grant_id", "released_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_grant_suspension_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grant_suspension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_suspension_user_id"))
        batch_op.drop_index("ix_grant_suspension_open")
        batch_op.drop_index(batch_op.f("ix_grant_suspension_directive_id"))

    op.drop_table("grant_suspension")
    op.drop_table("directive_user")
    with op.batch_alter_table("directive_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_model_model"))

    op.drop_table("directive_model")
    op.drop_table("directive_country")
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_status"))
        batch_op.drop_index(batch_op.f("ix_directive_effective_at"))

    op.drop_table("directive")
