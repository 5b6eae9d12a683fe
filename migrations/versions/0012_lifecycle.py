"""access lifecycle: warnings before a grant ends, requests that extend a grant, reminders and escalation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 09:00:00.000000

access_request.extends_grant_id marks a request to extend the holder's grant (bot/services/extensions.py)
rather than for a new one; grant_warning remembers which expiry warnings were queued for which grant;
request_step.reminders_sent and escalated_at record a waiting step's reminders and its escalation
(bot/services/approvals/reminders.py); delegation, request_step.delegable and approval_task's
on_behalf_of and withdrawn_at record who decides for whom (bot/services/delegations.py); break_glass
records emergency access and its review (bot/services/break_glass.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extends_grant_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("request_step", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delegable", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("escalated_at", bot.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_follow_up_at", bot.store.types.UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_request_step_next_follow_up_at"), ["next_follow_up_at"], unique=False
        )
    # Steps waiting now are looked at by the next reminder run, which works out when they are due.
    op.execute(
        "UPDATE request_step SET next_follow_up_at = started_at "
        "WHERE status = 'pending' AND started_at IS NOT NULL"
    )
    with op.batch_alter_table("approval_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_behalf_of", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_at", bot.store.types.UTCDateTime(), nullable=True))
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("delegate_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=True),
        sa.Column("starts_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("closed_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delegation_delegator_id"), ["delegator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_delegate_id"), ["delegate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_ends_at"), ["ends_at"], unique=False)
    op.create_table(
        "grant_warning",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("lead_seconds", sa.Integer(), nullable=False),
        sa.Column("queued_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.PrimaryKeyConstraint("grant_id", "lead_seconds"),
    )

    op.create_table(
        "break_glass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("used_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("review", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reviewed_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("grant_id"),
    )
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_glass_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_break_glass_used_at"), ["used_at"], unique=False)


def downgrade() -> None:
    op.drop_table("break_glass")
    op.drop_table("delegation")
    with op.batch_alter_table("approval_task", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("on_behalf_of")
    op.drop_table("grant_warning")
    with op.batch_alter_table("request_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_step_next_follow_up_at"))
        batch_op.drop_column("next_follow_up_at")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("reminders_sent")
        batch_op.drop_column("delegable")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_column("extends_grant_id")
