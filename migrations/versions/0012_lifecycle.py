"""access lifecycle: warnings before a grant ends, requests that extend a grant, reminders and escalation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 09:00:00.000000

access_request.extends_grant_id marks a request to extend the holder's grant (bot/services/extensions.py)
rather than for a new one; grant_warning remembers which expiry warnings were queued for which grant;
request_step.reminders_sent and escalated_at record a waiting step's reminders and its escalation
(bot/services/approvals/reminders.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
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
        batch_op.add_column(sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("escalated_at", bot.store.types.UTCDateTime(), nullable=True))
    op.create_table(
        "grant_warning",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("lead_seconds", sa.Integer(), nullable=False),
        sa.Column("queued_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.PrimaryKeyConstraint("grant_id", "lead_seconds"),
    )


def downgrade() -> None:
    op.drop_table("grant_warning")
    with op.batch_alter_table("request_step", schema=None) as batch_op:
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("reminders_sent")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_column("extends_grant_id")
