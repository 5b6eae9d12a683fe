"""directive broadcasts: the phase of each announcement of a directive, recorded as data

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000

Before this revision the phase of a directive's notices lived only in their outbox group key
("directive:7" for the activation, "directive:7:warning", ":lifted", ":withdrawn" for the others), and a
progress message remembered its group key. The upgrade reads those keys once, records one
directive_broadcast row per announcement, and makes each progress record name its phase instead.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVATION = "active"
PHASES = ("warning", "active", "lifted", "withdrawn")

outbox = sa.table(
    "outbox",
    sa.column("group_key", sa.String),
    sa.column("created_at", bot.store.types.UTCDateTime()),
)
directive = sa.table(
    "directive",
    sa.column("id", sa.Integer),
    sa.column("progress_reported", sa.JSON),
)
broadcast = sa.table(
    "directive_broadcast",
    sa.column("directive_id", sa.Integer),
    sa.column("phase", sa.String),
    sa.column("group_key", sa.String),
    sa.column("queued_at", bot.store.types.UTCDateTime()),
)


def legacy_group(key: str | None) -> tuple[int, str] | None:
    """(directive id, phase) of a group key written before this revision, or None for other keys."""
    parts = (key or "").split(":")
    if len(parts) not in (2, 3) or parts[0] != "directive" or not parts[1].isdigit():
        return None
    phase = parts[2] if len(parts) == 3 else ACTIVATION
    return (int(parts[1]), phase) if phase in PHASES else None


def legacy_key(directive_id: int, phase: str) -> str:
    return f"directive:{directive_id}" if phase == ACTIVATION else f"directive:{directive_id}:{phase}"


def upgrade() -> None:
    op.create_table(
        "directive_broadcast",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("group_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("queued_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
        ),
        sa.PrimaryKeyConstraint("directive_id", "phase"),
    )
    with op.batch_alter_table("directive_broadcast", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_broadcast_group_key"), ["group_key"], unique=False)

    connection = op.get_bind()
    known = set(connection.execute(sa.select(directive.c.id)).scalars())
    groups = connection.execute(
        sa.select(outbox.c.group_key, sa.func.min(outbox.c.created_at))
        .where(outbox.c.group_key.like("directive:%"))
        .group_by(outbox.c.group_key)
    ).all()
    rows: list[dict[str, Any]] = []
    for key, queued_at in groups:
        parsed = legacy_group(key)
        if parsed is not None and parsed[0] in known:
            rows.append(
                {"directive_id": parsed[0], "phase": parsed[1], "group_key": key, "queued_at": queued_at}
            )
    if rows:
        connection.execute(broadcast.insert(), rows)
    _rewrite_progress(connection, to_phase=True)


def downgrade() -> None:
    _rewrite_progress(op.get_bind(), to_phase=False)
    with op.batch_alter_table("directive_broadcast", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_broadcast_group_key"))
    op.drop_table("directive_broadcast")


def _rewrite_progress(connection: Any, *, to_phase: bool) -> None:
    """Progress records name their phase (upgrade) or, as before, their group key (downgrade)."""
    records = connection.execute(
        sa.select(directive.c.id, directive.c.progress_reported).where(
            directive.c.progress_reported.is_not(None)
        )
    ).all()
    for directive_id, reported in records:
        if not isinstance(reported, dict):
            continue
        changed = dict(reported)
        if to_phase and "group" in changed:
            parsed = legacy_group(changed.pop("group"))
            changed["phase"] = parsed[1] if parsed else None
        elif not to_phase and "phase" in changed:
            phase = changed.pop("phase")
            changed["group"] = legacy_key(directive_id, phase) if phase else None
        else:
            continue
        connection.execute(
            directive.update().where(directive.c.id == directive_id).values(progress_reported=changed)
        )
