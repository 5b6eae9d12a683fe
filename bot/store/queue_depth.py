"""How deep the delivery queues are, for the metrics: unfinished rows (pending or being sent) of the Slack
outbox by kind, and of webhook deliveries, each with the creation time of its oldest, in one statement.
On PostgreSQL the statement may be given a time limit, so that a scrape never waits on a lock for long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, func, literal, text, union_all
from sqlmodel import Session, col, select

from bot.store.claims import UNFINISHED
from bot.store.tables import OutboxMessage, WebhookDelivery

# The kind webhook deliveries are reported under, beside the outbox's own kinds.
WEBHOOK_KIND = "webhook"


@dataclass(frozen=True)
class Depth:
    """Unfinished rows of one kind, and when the oldest of them was queued (aware UTC)."""

    kind: str
    rows: int
    oldest: datetime


def unfinished_by_kind(session: Session, timeout: float | None = None) -> list[Depth]:
    """Each kind that has unfinished rows (kinds with none are left out), read with one grouped
    query over the outbox and the webhook deliveries (both use their `status` index). `timeout`
    (seconds): on PostgreSQL, the query is cancelled after that long, raising
    sqlalchemy.exc.OperationalError (PostgreSQL's `statement_timeout`, for this transaction only).
    SQLite readers wait on no lock (write-ahead log), so it has no limit there."""
    if timeout is not None and session.get_bind().dialect.name == "postgresql":
        limit = text("SELECT set_config('statement_timeout', :limit, true)")
        session.exec(limit.bindparams(limit=f"{max(1, round(timeout * 1000))}ms"))  # type: ignore[call-overload]
    unfinished = [status.value for status in UNFINISHED]
    outbox = (
        select(
            col(OutboxMessage.kind).label("kind"),
            func.count().label("rows"),
            func.min(OutboxMessage.created_at).label("oldest"),
        )
        .where(col(OutboxMessage.status).in_(unfinished))
        .group_by(col(OutboxMessage.kind))
    )
    webhooks = select(
        literal(WEBHOOK_KIND, String).label("kind"),
        func.count().label("rows"),
        func.min(WebhookDelivery.created_at).label("oldest"),
    ).where(col(WebhookDelivery.status).in_(unfinished))
    result = session.exec(union_all(outbox, webhooks))  # type: ignore[call-overload]
    return [Depth(str(kind), int(rows), oldest) for kind, rows, oldest in result if rows]
