"""`accessbot directory import FILE` and `directory show USER`: the people directory."""

from __future__ import annotations

import argparse

from bot.cli.common import UsageError, actor, ready_database
from bot.cli.output import print_record, safe
from bot.config import Settings
from bot.domain.text import terminal_safe
from bot.present.records import PersonRecord


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    """Import the CSV, all rows or none (a bad file raises DirectoryError), and print the counts."""
    from bot.services.directory import import_directory

    db = ready_database(settings)
    result = import_directory(db, args.file, actor=actor())
    print(
        f"imported {safe(args.file)}: {result.added} added, {result.changed} updated, "
        f"{result.unchanged} unchanged"
    )
    return 0


def show(settings: Settings, args: argparse.Namespace) -> int:
    """One person, by Slack user ID or email: a PersonRecord, or `key  value` lines (lists joined by `;`).
    Raises UsageError when nobody matches."""
    from bot.store.directory import find_person

    db = ready_database(settings)
    with db.read() as session:
        person = find_person(session, args.user)
    if person is None:
        raise UsageError(f"nobody in the directory matches '{args.user}'")  # fail() makes it printable
    record = PersonRecord.of(person)
    if args.json:
        print_record(record)
        return 0
    fields = record.as_json()
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        shown = ";".join(value) if isinstance(value, list) else (value if value is not None else "")
        print(f"{key:<{width}}  {terminal_safe(shown)}")
    return 0
