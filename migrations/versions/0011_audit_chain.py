"""audit chain: every audit event sealed into a hash chain, and checkpoints of its head

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 10:00:00.000000

Adds seq, prev_hash and hash to audit_event, the chain's head row (audit_chain) and the checkpoints
(audit_checkpoint). The chain starts here: this migration records itself as an audit event
(`audit.chain_started`) and seals every event on record, itself included, in id order (see
bot/domain/audit_chain.py). Undone, the chain's columns and tables go; no event is deleted.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types
from bot.domain.audit_chain import GENESIS, HASHED, event_hash

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

# audit_event as this revision knows it (the table class may gain columns later).
audit_event = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", bot.store.types.UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
    sa.column("detail", sa.JSON()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
audit_chain = sa.table(
    "audit_chain",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.BigInteger()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_seq"), ["seq"], unique=True)
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_at"), ["at"], unique=False)
    _start_chain(op.get_bind())


def _start_chain(connection: sa.Connection) -> None:
    """Record the chain's start as an event, then seal every event on record in id order."""
    earlier = connection.execute(sa.select(sa.func.count()).select_from(audit_event)).scalar_one()
    connection.execute(
        audit_event.insert().values(
            at=datetime.now(UTC), actor="system", action="audit.chain_started", subject_type="audit",
            subject_id="chain", before=None, after=None,
            detail={"revision": revision, "events_before": earlier},
        )
    )  # fmt: skip
    names = [name for name in HASHED if name not in ("seq", "prev_hash")]
    columns = [audit_event.c[name] for name in names]
    seq, previous, last_id = 0, GENESIS, 0
    while True:
        # Keyset pages: constant memory however many events there are.
        rows = connection.execute(
            sa.select(*columns).where(audit_event.c.id > last_id).order_by(audit_event.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        sealed = []
        for row in rows:
            seq += 1
            event = {**row._mapping, "seq": seq, "prev_hash": previous}
            previous = event_hash(event)
            sealed.append({"key": row.id, "seq": seq, "prev_hash": event["prev_hash"], "hash": previous})
        connection.execute(
            audit_event.update()
            .where(audit_event.c.id == sa.bindparam("key"))
            .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")),
            sealed,
        )
        last_id = rows[-1].id
    connection.execute(audit_chain.insert().values(id=1, seq=seq, hash=previous))


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_at"))
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_seq"))
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
