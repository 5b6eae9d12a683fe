"""grant status changes rewrite rows in place: no index covers a grant's status or a suspension's release

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-12 09:00:00.000000

A directive or a re-check suspends or reinstates tens of thousands of grants at once. On PostgreSQL an
UPDATE that changes no indexed column, and finds room on the row's page, is a heap-only update: the row
is rewritten on its page and no index gains an entry. Changing `access_grant.status` used to add an entry
to all six indexes of the table, and releasing a suspension to all four of `grant_suspension`.

- access_grant: the one-held-grant-per-person-and-model index and the expiry index read `ended_at IS
  NULL` instead of the status (a check keeps the two in step); ended grants recorded without an end get
  one (their last update).
- grant_suspension: the (grant_id, released_at) index goes (the primary key's leading grant_id finds a
  grant's rows), and one (directive_id, user_id) index replaces the two single-column ones: each row
  a directive suspends adds two index entries instead of four.
- On PostgreSQL both tables keep a third of each page free (fillfactor 70) for those rewrites; pages
  written before this keep their old fill until the table is rewritten (VACUUM FULL), and fill up as
  rows are updated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = "status IN ('active', 'suspended')"
ENDED_CHECK = "(status IN ('active', 'suspended')) = (ended_at IS NULL)"


def upgrade() -> None:
    op.execute(f"UPDATE access_grant SET ended_at = updated_at WHERE ended_at IS NULL AND NOT ({HELD})")
    op.execute(f"UPDATE access_grant SET ended_at = NULL WHERE ended_at IS NOT NULL AND {HELD}")
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index("uq_access_grant_held")
        batch_op.drop_index("ix_access_grant_status_expires")
        batch_op.create_index(
            "uq_access_grant_held",
            ["user_id", "model"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            "ix_access_grant_held_expires",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_check_constraint("ck_access_grant_ended", sa.text(ENDED_CHECK))
    with op.batch_alter_table("grant_suspension", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_suspension_open")
        batch_op.drop_index("ix_grant_suspension_directive_id")
        batch_op.drop_index("ix_grant_suspension_user_id")
        batch_op.create_index("ix_grant_suspension_directive_user", ["directive_id", "user_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE access_grant SET (fillfactor = 70)")
        op.execute("ALTER TABLE grant_suspension SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE grant_suspension RESET (fillfactor)")
        op.execute("ALTER TABLE access_grant RESET (fillfactor)")
    with op.batch_alter_table("grant_suspension", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_suspension_directive_user")
        batch_op.create_index("ix_grant_suspension_user_id", ["user_id"], unique=False)
        batch_op.create_index("ix_grant_suspension_directive_id", ["directive_id"], unique=False)
        batch_op.create_index("ix_grant_suspension_open", ["grant_id", "released_at"], unique=False)
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_constraint("ck_access_grant_ended", type_="check")
        batch_op.drop_index("ix_access_grant_held_expires")
        batch_op.drop_index("uq_access_grant_held")
        batch_op.create_index("ix_access_grant_status_expires", ["status", "expires_at"], unique=False)
        batch_op.create_index(
            "uq_access_grant_held",
            ["user_id", "model"],
            unique=True,
            sqlite_where=sa.text(HELD),
            postgresql_where=sa.text(HELD),
        )
