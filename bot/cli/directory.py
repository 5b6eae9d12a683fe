"""`accessbot directory import FILE` and `directory show USER`: the people directory."""

from __future__ import annotations

import argparse

from bot.cli.common import UsageError, actor, ready_context, ready_database
from bot.cli.output import print_fields, safe
from bot.config import Settings
from bot.present.records import PersonRecord


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    """Import the CSV, all rows or none (a bad file raises DirectoryError), and print the counts; with
    --full, who departed and what that ended; with --dry-run, what would happen (exit code 2 when the
    import itself would be refused for departing too many people)."""
    from bot.services.directory import import_directory

    if args.force and not args.full:
        raise UsageError("--force only applies to --full imports")
    ctx = ready_context(settings)
    result = import_directory(
        ctx, args.file, actor=actor(), full=args.full, dry_run=args.dry_run, force=args.force
    )
    verb = "would import" if result.dry_run else "imported"
    print(
        f"{verb} {safe(args.file)}: {result.added} added, {result.changed} updated, "
        f"{result.unchanged} unchanged"
    )
    if args.full:
        what = "would depart" if result.dry_run else "departed"
        print(
            f"{what}: {len(result.departed)} ({result.grants_revoked} grants revoked, "
            f"{result.requests_cancelled} pending requests cancelled)"
        )
        for user_id in result.departed:
            print(f"  {safe(user_id)}")
    if result.returned:
        returned = ", ".join(safe(u) for u in result.returned)
        print(f"{'would return' if result.dry_run else 'returned'}: {returned}")
    if result.recheck is not None and result.recheck.recheck_id is not None:
        change = result.recheck
        print(
            f"re-checked: {change.suspended} grants suspended, {change.reinstated} reinstated, "
            f"{change.requests_stopped} pending requests stopped"
        )
    if result.refusal:  # a dry run over the departure limit: the import itself would be refused
        raise UsageError(f"{result.refusal}; without --dry-run nothing would be imported")
    return 0


def show(settings: Settings, args: argparse.Namespace) -> int:
    """One person, by Slack user ID or email: a PersonRecord, or `key  value` lines (lists joined by `;`).
    Raises UsageError when nobody matches."""
    from bot.store.directory import find_person, is_departed

    db = ready_database(settings)
    with db.read() as session:
        person = find_person(session, args.user)
        departed = person is not None and is_departed(session, person.slack_user_id)
    if person is None:
        raise UsageError(f"nobody in the directory matches '{args.user}'")  # fail() makes it printable
    print_fields(PersonRecord.of(person, departed=departed), args.json)
    return 0
