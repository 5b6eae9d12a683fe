"""`accessbot requests list` and `grants list`: tables, or JSON arrays of the records of
bot/present/records.py."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.cli.common import ready_database
from bot.cli.output import print_records
from bot.config import Settings
from bot.domain.status import GrantStatus, RequestStatus
from bot.present.records import GrantDeliveryRecord, GrantRecord, RequestRecord

if TYPE_CHECKING:  # `accessbot --version` need not load the tables
    from sqlmodel import Session

    from bot.store.tables import AccessGrant

REQUEST_COLUMNS = ("id", "slack_user_id", "model", "status", "current_step", "created_at", "decided_at")
GRANT_COLUMNS = ("id", "slack_user_id", "model", "status", "created_at", "expires_at")


def requests(settings: Settings, args: argparse.Namespace) -> int:
    """Requests, oldest first: all, or those of `--status`, at most `--limit`."""
    from bot.store.requests import list_requests

    status = RequestStatus(args.status) if args.status else None
    db = ready_database(settings)
    with db.read() as session:
        records = [RequestRecord.of(r) for r in list_requests(session, status, args.limit)]
    print_records(records, args.json, REQUEST_COLUMNS)
    return 0


def grants(settings: Settings, args: argparse.Namespace) -> int:
    """Grants, oldest first: all, or those of `--status`, at most `--limit`."""
    from bot.store.requests import list_grants

    status = GrantStatus(args.status) if args.status else None
    db = ready_database(settings)
    with db.read() as session:
        records = grant_records(session, list_grants(session, status, args.limit))
    print_records(records, args.json, GRANT_COLUMNS)
    return 0


def grant_records(session: Session, found: Sequence[AccessGrant]) -> list[GrantRecord]:
    """The rows of `grants list --json` for these grants: each with what holds it, the licences it
    depends on, its last gateway check and its latest webhook delivery per receiver, read in a few
    queries for all of them."""
    from bot.store.holds import held_by
    from bot.store.keys import last_checks
    from bot.store.licences import grant_licences
    from bot.store.webhooks import last_deliveries

    ids = [g.id or 0 for g in found]
    # Only a suspended grant is held: an ended one keeps the holds it ended under, which hold nothing.
    suspended = [g.id or 0 for g in found if g.status == GrantStatus.SUSPENDED]
    holds, licences, checks = (
        held_by(session, suspended),
        grant_licences(session, ids),
        last_checks(session, ids),
    )
    sent = last_deliveries(session, ids)
    return [
        GrantRecord.of(
            g,
            holds.get(g.id or 0),
            licences.get(g.id or 0),
            checks.get(g.id or 0),
            [GrantDeliveryRecord.of(d.delivery, d.event) for d in sent.get(g.id or 0, [])],
        )
        for g in found
    ]
