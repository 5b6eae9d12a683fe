"""`accessbot licence add | import | list | show | revoke`: export licences."""

from __future__ import annotations

import argparse

from bot.cli.common import UsageError, actor, ready_context, ready_database
from bot.cli.output import print_fields, print_records, safe
from bot.config import Settings
from bot.domain.licences import LicenceError, parse_label
from bot.domain.status import LicenceStatus
from bot.present.records import LicenceRecord

COLUMNS = ("label", "number", "authority", "kind", "holder", "models", "countries", "valid_until", "status")


def _recheck_line(result: object) -> None:
    from bot.services.recheck import RecheckResult

    if isinstance(result, RecheckResult) and result.recheck_id is not None:
        print(
            f"re-checked: {result.suspended} grants suspended, {result.reinstated} reinstated, "
            f"{result.requests_stopped} pending requests stopped"
        )


def add(settings: Settings, args: argparse.Namespace) -> int:
    """Record one licence from the options; prints its label and what the re-check changed."""
    from bot.services.licences import COMMAND_LINE, record_licence

    ctx = ready_context(settings)
    fields = {
        "number": args.number,
        "authority": args.authority,
        "kind": args.kind,
        "holder": args.holder,
        "models": args.models,
        "countries": args.countries,
        "valid_from": args.valid_from,
        "valid_until": args.valid_until,
        "conditions": args.conditions or "",
    }
    change = record_licence(ctx, fields, actor=actor(), source=COMMAND_LINE)
    expired = f" as expired: its last day, {args.valid_until}, has passed" if change.expired else ""
    print(f"recorded L{change.licence_id}{expired}")
    _recheck_line(change.recheck)
    return 0


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    """Import the licence CSV, all rows or none (a bad file raises LicenceFileError), and print counts."""
    from bot.services.licences import import_licences

    ctx = ready_context(settings)
    result = import_licences(ctx, args.file, actor=actor())
    print(
        f"imported {safe(args.file)}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )
    _recheck_line(result.recheck)
    return 0


def _records(settings: Settings, holder: str | None, status: LicenceStatus | None) -> list[LicenceRecord]:
    from bot.store.directory import find_person
    from bot.store.licences import list_licences

    db = ready_database(settings)
    with db.read() as session:
        holder_id = None
        if holder is not None:
            person = find_person(session, holder)
            if person is None:
                raise UsageError(f"nobody in the directory matches '{holder}'")
            holder_id = person.slack_user_id
        found = list_licences(session, holder=holder_id, status=status)
    return [LicenceRecord.of(f) for f in found]


def list_all(settings: Settings, args: argparse.Namespace) -> int:
    """Licences by id: all, or those of `--holder` (user ID or e-mail) and `--status`."""
    status = LicenceStatus(args.status) if args.status else None
    print_records(_records(settings, args.holder, status), args.json, COLUMNS)
    return 0


def show(settings: Settings, args: argparse.Namespace) -> int:
    """One licence by id (`L3` or `3`): a LicenceRecord, or `key  value` lines."""
    from bot.store.licences import find_licence

    licence_id = _licence_id(args.id)
    db = ready_database(settings)
    with db.read() as session:
        found = find_licence(session, licence_id, grants=True)
    if found is None:
        raise UsageError(f"there is no licence L{licence_id}")
    print_fields(LicenceRecord.of(found), args.json)
    return 0


def revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Revoke a licence with a reason; prints what the re-check changed."""
    from bot.services.licences import revoke_licence

    licence_id = _licence_id(args.id)  # before the database: a bad ID is bad input whatever its state
    ctx = ready_context(settings)
    change = revoke_licence(ctx, licence_id, args.reason, actor=actor())
    print(f"revoked L{change.licence_id}")
    _recheck_line(change.recheck)
    return 0


def _licence_id(text: str) -> int:
    try:
        return parse_label(text)
    except LicenceError as error:
        raise UsageError(str(error)) from None
