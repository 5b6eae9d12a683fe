"""`accessbot outbox list` and `outbox retry ID…`: outgoing Slack messages."""

from __future__ import annotations

import argparse

from bot.cli.common import UsageError, actor, ready_database
from bot.cli.output import print_records
from bot.config import Settings
from bot.domain.status import OutboxStatus
from bot.present.records import OutboxRecord

COLUMNS = ("id", "kind", "to", "status", "attempts", "last_error", "created_at")


def list_recent(settings: Settings, args: argparse.Namespace) -> int:
    """The newest messages first, at most `--limit`, of `--status` if given."""
    from bot.notify.outbox import describe
    from bot.store.outbox import recent

    status = OutboxStatus(args.status) if args.status else None
    db = ready_database(settings)
    with db.read() as session:
        records = [OutboxRecord.model_validate(describe(row)) for row in recent(session, status, args.limit)]
    print_records(records, args.json, COLUMNS)
    return 0


def retry(settings: Settings, args: argparse.Namespace) -> int:
    """Queue the failed messages among the IDs again. Raises UsageError naming the IDs that were not
    failed or not found (the others are queued all the same)."""
    from bot.store.outbox import requeue_failed

    db = ready_database(settings)
    queued = requeue_failed(db, args.ids, actor=actor())
    missing = sorted(set(args.ids) - set(queued))
    if missing:
        raise UsageError(f"not failed or not found: {', '.join(map(str, missing))} (queued {len(queued)})")
    print(f"queued {len(queued)} message(s) again")
    return 0
