"""`accessbot audit export`: every audit event, oldest first, as JSON Lines or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from bot.cli.common import ready_database
from bot.cli.output import safe
from bot.config import Settings
from bot.domain.text import csv_safe
from bot.present.records import AuditRecord

COLUMNS = tuple(AuditRecord.model_fields)


def csv_row(record: dict[str, Any]) -> list[object]:
    """One audit event (AuditRecord.as_json) as CSV cells, in COLUMNS order: JSON columns (before,
    after, detail) as compact JSON text unless they hold a plain string, and every cell through csv_safe,
    so that an actor or a detail starting with `=` reaches a spreadsheet as text, not a formula (OWASP
    CSV injection)."""
    cells = []
    for column in COLUMNS:
        value = record[column]
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True)
        cells.append(csv_safe(value))
    return cells


def export(settings: Settings, args: argparse.Namespace) -> int:
    """Write every event to `--output` (then say how many) or to standard output: one JSON object a
    line with sorted keys, or CSV with a header row. Events are read in batches, not all at once."""
    from sqlmodel import col, select

    from bot.store.tables import AuditEvent

    db = ready_database(settings)
    out = args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out) if args.format == "csv" else None
        if writer:
            writer.writerow(COLUMNS)
        count = 0
        with db.read() as session:
            for event in session.exec(
                select(AuditEvent).order_by(col(AuditEvent.id)).execution_options(yield_per=1000)
            ):
                record = AuditRecord.of(event).as_json()
                if writer:
                    writer.writerow(csv_row(record))
                else:
                    out.write(json.dumps(record, sort_keys=True) + "\n")
                count += 1
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"wrote {count} audit events to {safe(args.output)}")
    return 0
