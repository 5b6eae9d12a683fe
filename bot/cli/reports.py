"""`accessbot report access`: who could use a model at an instant, or what a person could use over a
window, from recorded history (bot/services/access_reports.py); as text, a JSON array or CSV."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.cli.arguments import moment
from bot.cli.common import UsageError, ready_context
from bot.cli.output import print_json, safe
from bot.config import Settings
from bot.present.access_reports import (
    HOLDER_COLUMNS,
    PERIOD_COLUMNS,
    HolderRecord,
    PeriodRecord,
    holder_csv_row,
    holder_line,
    period_csv_row,
    period_line,
)
from bot.present.records import Record

R = TypeVar("R", bound=Record)


def access(settings: Settings, args: argparse.Namespace) -> int:
    """`--model M --at T`: everyone who could use M at T and on what basis (HolderRecords); or `--person
    P --from T1 [--to T2]`: every interval in which P could use a model (PeriodRecords). Raises
    UsageError for a missing or mixed choice of options, a bad time, or what the service refuses (a
    time in the future, an unknown model or person)."""
    from bot.services import access_reports
    from bot.services.context import Refusal
    from bot.store.directory import find_person

    by_model = args.model is not None or args.at is not None
    by_person = args.person is not None or args.start is not None or args.end is not None
    if by_model == by_person:
        raise UsageError("give either --model and --at, or --person and --from (with --to if not up to now)")
    ctx = ready_context(settings)
    try:
        if by_model:
            if args.model is None or args.at is None:
                raise UsageError("--model and --at go together")
            report = access_reports.access_at(ctx, args.model, moment("--at", args.at))
            holders = [HolderRecord.of(report, holder) for holder in report.holders]
            _write(args, holders, HOLDER_COLUMNS, holder_csv_row, holder_line)
            return 0
        if args.person is None or args.start is None:
            raise UsageError("--person and --from go together")
        start = moment("--from", args.start)
        end = moment("--to", args.end) if args.end is not None else None
        with ctx.read() as session:
            person = find_person(session, args.person)
        # A Slack user ID typed in lower case is still that ID.
        user_id = person.slack_user_id if person else args.person.strip().upper()
        window = access_reports.person_access(ctx, user_id, start, end)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    periods = [PeriodRecord.of(window, period) for period in window.periods]
    _write(args, periods, PERIOD_COLUMNS, period_csv_row, period_line)
    return 0


def _write(
    args: argparse.Namespace,
    records: Sequence[R],
    columns: Sequence[str],
    csv_row: Callable[[R], list[str]],
    line: Callable[[R], str],
) -> None:
    if args.json:
        print_json([record.as_json() for record in records])
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(csv_row(record) for record in records)
    elif not records:
        print("(none)")
    else:
        for record in records:
            print(safe(line(record)))
