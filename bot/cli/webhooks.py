"""`accessbot webhooks list` and `webhooks replay --since T`: deliveries of webhook events to the
receivers of workflows/webhooks.yaml."""

from __future__ import annotations

import argparse

from bot.cli.arguments import moment
from bot.cli.common import UsageError, actor, ready_context, ready_database
from bot.cli.output import print_records
from bot.config import Settings
from bot.domain.status import OutboxStatus
from bot.present.webhooks import DeliveryRecord

COLUMNS = ("id", "receiver", "type", "subject", "version", "status", "attempts", "last_error", "created_at")


def list_recent(settings: Settings, args: argparse.Namespace) -> int:
    """The newest deliveries first, at most `--limit`, of `--receiver` and `--status` if given."""
    from bot.store.webhooks import recent

    status = OutboxStatus(args.status) if args.status else None
    db = ready_database(settings)
    with db.read() as session:
        found = recent(session, receiver=args.receiver, status=status, limit=args.limit)
        records = [DeliveryRecord.of(d.delivery, d.event) for d in found]
    print_records(records, args.json, COLUMNS)
    return 0


def replay(settings: Settings, args: argparse.Namespace) -> int:
    """Queue again every event since `--since` for each receiver (or `--receiver`) that subscribes to
    its type: new deliveries of the same events, under the same `webhook-id`, after those already
    queued. Audited as `webhooks.replayed`."""
    from bot.store import audit
    from bot.store import webhooks as rows

    start = moment("--since", args.since)
    ctx = ready_context(settings)
    receivers = {r.name: r.events for r in ctx.catalog.receivers}
    if not receivers:
        raise UsageError("no webhook receivers are configured (workflows/webhooks.yaml)")
    if args.receiver:
        if args.receiver not in receivers:
            known = ", ".join(sorted(receivers))
            raise UsageError(f"no webhook receiver '{args.receiver}' (configured: {known})")
        receivers = {args.receiver: receivers[args.receiver]}
    with ctx.uow() as uow:
        queued = rows.replay(uow.session, start, receivers, ctx.clock())
        audit.record(
            uow.session, actor=actor(), action="webhooks.replayed", subject_type="webhooks",
            subject_id=",".join(sorted(receivers)), detail={"since": start.isoformat(), "queued": queued},
        )  # fmt: skip
        uow.commit()
    for name, count in queued.items():
        print(f"{name}: queued {count} event(s) again")
    return 0
