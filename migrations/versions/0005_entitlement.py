"""entitlement: departed people, holds of the entitlement rule, confirmations, re-check runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00.000000

The entitlement rule (bot/domain/entitlement.py) holds a grant suspended for reasons other than
directives: departure, a deactivated account, the model suspended, embargo, the US-person rule. Each is
a grant_hold row. A grant approved after export compliance confirmed a missing fact records that in
grant_confirmation: the upgrade fills it from the REVIEW checks of each grant's request, so that grants
approved before this revision keep the confirmation they were given.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIRMABLE = ("embargo", "us_person")

access_grant = sa.table("access_grant", sa.column("id", sa.Integer), sa.column("request_id", sa.Integer))
access_request = sa.table("access_request", sa.column("id", sa.Integer), sa.column("policy_results", sa.JSON))
grant_confirmation = sa.table(
    "grant_confirmation", sa.column("grant_id", sa.Integer), sa.column("hold", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("departed_at", bot.store.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("grant_suspension", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recheck_id", sa.Integer(), nullable=True))
    op.create_table(
        "grant_confirmation",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("hold", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.PrimaryKeyConstraint("grant_id", "hold"),
    )
    op.create_table(
        "grant_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("hold", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unknown", sa.Boolean(), nullable=False),
        sa.Column("held_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("recheck_id", sa.Integer(), nullable=True),
        sa.Column("released_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("released_recheck_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grant_hold", schema=None) as batch_op:
        batch_op.create_index("ix_grant_hold_open", ["grant_id", "released_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_grant_hold_recheck_id"), ["recheck_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grant_hold_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_grant_hold_open",
            ["grant_id", "hold"],
            unique=True,
            sqlite_where=sa.text("released_at IS NULL"),
            postgresql_where=sa.text("released_at IS NULL"),
        )
    op.create_table(
        "recheck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recheck", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recheck_at"), ["at"], unique=False)
    op.create_table(
        "recheck_change",
        sa.Column("recheck_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("change", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["recheck_id"], ["recheck.id"]),
        sa.PrimaryKeyConstraint("recheck_id", "subject_type", "subject_id"),
    )
    with op.batch_alter_table("recheck_change", schema=None) as batch_op:
        batch_op.create_index("ix_recheck_change_person", ["recheck_id", "user_id"], unique=False)

    op.create_table(
        "recheck_reason",
        sa.Column("recheck_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("hold", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unknown", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("recheck_id", "grant_id", "hold", "directive_id"),
    )

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(access_grant.c.id, access_request.c.policy_results).join(
            access_request, access_request.c.id == access_grant.c.request_id
        )
    ).all()
    confirmations = [
        {"grant_id": grant_id, "hold": check["check"]}
        for grant_id, results in rows
        for check in (results or [])
        if isinstance(check, dict) and check.get("outcome") == "review" and check.get("check") in CONFIRMABLE
    ]
    if confirmations:
        connection.execute(grant_confirmation.insert(), confirmations)


def downgrade() -> None:
    op.drop_table("recheck_reason")
    with op.batch_alter_table("recheck_change", schema=None) as batch_op:
        batch_op.drop_index("ix_recheck_change_person")
    op.drop_table("recheck_change")
    with op.batch_alter_table("recheck", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recheck_at"))
    op.drop_table("recheck")
    with op.batch_alter_table("grant_hold", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_grant_hold_open",
            sqlite_where=sa.text("released_at IS NULL"),
            postgresql_where=sa.text("released_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_grant_hold_user_id"))
        batch_op.drop_index(batch_op.f("ix_grant_hold_recheck_id"))
        batch_op.drop_index("ix_grant_hold_open")
    op.drop_table("grant_hold")
    op.drop_table("grant_confirmation")
    with op.batch_alter_table("grant_suspension", schema=None) as batch_op:
        batch_op.drop_column("recheck_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("departed_at")
