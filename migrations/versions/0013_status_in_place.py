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
  a directive suspends adds two index entries instead of four. Its foreign keys go, as grant_hold's did
  (0007): its rows are only written from a join with the grant, under the directive being applied, and
  neither is ever deleted, yet PostgreSQL checked each with a trigger call per row, a third of the time
  of putting a directive over 50,000 grants in force.
- grant_hold: its (grant_id, released_at) and user_id indexes go: open holds are found by grant
  through the unique index of open holds, and nothing looks holds up by person; releasing a hold
  writes its new row version into two indexes instead of four.
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
# grant_suspension's foreign keys, dropped as grant_hold's were (0007): (column, referred table). SQLite's
# are unnamed: batch mode names them by this convention to find them; PostgreSQL's carry its default
# name, grant_suspension_<column>_fkey.
SUSPENSION_KEYS = (("grant_id", "access_grant"), ("directive_id", "directive"))
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


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
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for column, _ in SUSPENSION_KEYS:
            op.drop_constraint(f"grant_suspension_{column}_fkey", "grant_suspension", type_="foreignkey")
    with op.batch_alter_table("grant_suspension", naming_convention=SQLITE_NAMES) as batch_op:
        if not postgresql:
            for column, referred in SUSPENSION_KEYS:
                batch_op.drop_constraint(f"fk_grant_suspension_{column}_{referred}", type_="foreignkey")
        batch_op.drop_index("ix_grant_suspension_open")
        batch_op.drop_index("ix_grant_suspension_directive_id")
        batch_op.drop_index("ix_grant_suspension_user_id")
        batch_op.create_index("ix_grant_suspension_directive_user", ["directive_id", "user_id"], unique=False)
    with op.batch_alter_table("grant_hold", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_hold_open")
        batch_op.drop_index("ix_grant_hold_user_id")
    if postgresql:
        op.execute("ALTER TABLE access_grant SET (fillfactor = 70)")
        op.execute("ALTER TABLE grant_suspension SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE grant_suspension RESET (fillfactor)")
        op.execute("ALTER TABLE access_grant RESET (fillfactor)")
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("grant_hold", schema=None) as batch_op:
        batch_op.create_index("ix_grant_hold_user_id", ["user_id"], unique=False)
        batch_op.create_index("ix_grant_hold_open", ["grant_id", "released_at"], unique=False)
    with op.batch_alter_table("grant_suspension", naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_index("ix_grant_suspension_directive_user")
        batch_op.create_index("ix_grant_suspension_user_id", ["user_id"], unique=False)
        batch_op.create_index("ix_grant_suspension_directive_id", ["directive_id"], unique=False)
        batch_op.create_index("ix_grant_suspension_open", ["grant_id", "released_at"], unique=False)
        if not postgresql:
            for column, referred in SUSPENSION_KEYS:
                batch_op.create_foreign_key(
                    f"fk_grant_suspension_{column}_{referred}", referred, [column], ["id"]
                )
    if postgresql:
        for column, referred in SUSPENSION_KEYS:
            op.create_foreign_key(
                f"grant_suspension_{column}_fkey", "grant_suspension", referred, [column], ["id"]
            )
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
