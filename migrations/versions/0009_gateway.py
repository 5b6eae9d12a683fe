"""gateway: personal keys for the AI gateway, and each grant's last gateway check

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:20:00.000000

A personal key is kept as the SHA-256 digest of the key, never the key (bot/domain/keys.py).
gateway_check records, per grant, the last time a gateway asked about it (bot/services/gateway.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    with op.batch_alter_table("personal_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_key_user_id"), ["user_id"], unique=False)
    op.create_table(
        "gateway_check",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("grant_id"),
    )


def downgrade() -> None:
    op.drop_table("gateway_check")
    with op.batch_alter_table("personal_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_key_user_id"))
    op.drop_table("personal_key")
