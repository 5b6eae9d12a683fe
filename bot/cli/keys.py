"""`accessbot keys list | revoke`: personal keys for the AI gateway (people make them with `/access key`)."""

from __future__ import annotations

import argparse

from bot.cli.common import UsageError, actor, ready_context
from bot.cli.output import print_records
from bot.config import Settings
from bot.present.records import KeyRecord

COLUMNS = ("id", "slack_user_id", "shown", "created_at", "last_used_at", "revoked_at")


def list_all(settings: Settings, args: argparse.Namespace) -> int:
    """Keys, newest first: everyone's, or `--user`'s (Slack user ID or e-mail); `--active` leaves out the
    revoked ones. The keys themselves are never stored, so never shown."""
    from bot.services.keys import list_keys
    from bot.store.directory import find_person

    ctx = ready_context(settings)
    user_id = None
    if args.user is not None:
        with ctx.read() as session:
            person = find_person(session, args.user)
        if person is None:
            raise UsageError(f"nobody in the directory matches '{args.user}'")
        user_id = person.slack_user_id
    records = [KeyRecord.of(k) for k in list_keys(ctx, user_id) if not (args.active and k.revoked_at)]
    print_records(records, args.json, COLUMNS)
    return 0


def revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Revoke a key (`K3` or `3`): it stops working on the next gateway check."""
    from bot.domain.text import parse_db_id
    from bot.services.context import Refusal
    from bot.services.keys import revoke_key

    text = args.id.strip()
    number = parse_db_id(text[1:] if text[:1] in ("K", "k") else text)
    if number is None:
        raise UsageError(f"'{args.id}' is not a key ID (like K3)")
    ctx = ready_context(settings)
    try:
        key = revoke_key(ctx, actor=actor(), key_id=number, reason=args.reason, operator=True)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    print(f"revoked K{key.id} of {key.user_id}")
    return 0
