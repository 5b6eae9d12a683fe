"""licences: export licences, their models and countries, the grants that depend on them, lapse warnings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:18:51.503511

An export licence exempts its holder from a require-licence directive for the models and countries it
names (bot/domain/licences.py). grant_licence records which licences a grant depends on;
licence_warning which lapse warnings have been queued.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("authority", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("holder_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("ended_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("ended_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("authority", "number", name="uq_licence_number"),
    )
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licence_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_licence_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_licence_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "licence_country",
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
        ),
        sa.PrimaryKeyConstraint("licence_id", "country"),
    )
    op.create_table(
        "licence_model",
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
        ),
        sa.PrimaryKeyConstraint("licence_id", "model"),
    )
    with op.batch_alter_table("licence_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licence_model_model"), ["model"], unique=False)

    op.create_table(
        "licence_warning",
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("queued_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
        ),
        sa.PrimaryKeyConstraint("licence_id", "days_before"),
    )
    op.create_table(
        "grant_licence",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["access_grant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
        ),
        sa.PrimaryKeyConstraint("grant_id", "licence_id"),
    )
    with op.batch_alter_table("grant_licence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grant_licence_licence_id"), ["licence_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grant_licence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_licence_licence_id"))

    op.drop_table("grant_licence")
    op.drop_table("licence_warning")
    with op.batch_alter_table("licence_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licence_model_model"))

    op.drop_table("licence_model")
    op.drop_table("licence_country")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licence_valid_until"))
        batch_op.drop_index(batch_op.f("ix_licence_status"))
        batch_op.drop_index(batch_op.f("ix_licence_holder_id"))

    op.drop_table("licence")
