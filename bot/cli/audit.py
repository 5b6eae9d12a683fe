"""`accessbot audit export | verify | checkpoint`: every audit event, oldest first, as JSON Lines or CSV;
checking the audit chain; recording (and posting) a checkpoint of its head."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from bot.cli.arguments import moment
from bot.cli.common import EXIT_FAILURE, UsageError, actor, ready_context, ready_database
from bot.cli.output import fail, safe
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
    """Write every event (or those from `--since` to before `--until`) to `--output` (then say how many)
    or to standard output: one JSON object a line with sorted keys, or CSV with a header row. Events are
    streamed in batches: memory stays the same for a million events as for ten. Raises UsageError for a
    bad time or an empty window."""
    from bot.store.audit import stream_events

    since = moment("--since", args.since) if args.since else None
    until = moment("--until", args.until) if args.until else None
    if since is not None and until is not None and until <= since:
        raise UsageError("--until must come after --since")
    db = ready_database(settings)
    try:
        out = args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
    except OSError as error:
        raise UsageError(f"--output {args.output}: cannot be written ({error.strerror or error})") from None
    try:
        writer = csv.writer(out) if args.format == "csv" else None
        if writer:
            writer.writerow(COLUMNS)
        count = 0
        with db.read() as session:
            for event in stream_events(session, since, until):
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


def verify(settings: Settings, args: argparse.Namespace) -> int:
    """Check the whole audit chain (`--seal`: seal waiting events first). Prints the number of events and
    the head hash and returns 0 when it holds; prints one line naming the first event changed, removed,
    inserted or reordered and returns 1 when it does not."""
    from bot.services import audit_chain

    db = ready_database(settings)
    if args.seal:
        audit_chain.seal(db)
    verdict = audit_chain.verify(db)
    if verdict.finding is not None:
        return fail(EXIT_FAILURE, f"the audit trail was tampered with: {verdict.finding.message}")
    agreed = f"; {verdict.checkpoints} checkpoint(s) agree" if verdict.checkpoints else ""
    print(f"audit chain intact: {verdict.events} events, head hash {verdict.head_hash}{agreed}")
    if verdict.unsealed:
        print(
            f"{verdict.unsealed} newer event(s) not sealed yet (the bot seals them within seconds; "
            "`accessbot audit verify --seal` seals them first)"
        )
    return 0


def checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    """Seal every event and record a checkpoint of the chain's head, queued to the compliance channel
    (policy.yaml `compliance_channel`) when one is set; prints what was recorded and where it goes."""
    from bot.present.audit import checkpoint_label
    from bot.services import audit_chain

    ctx = ready_context(settings)
    result = audit_chain.checkpoint(ctx, actor=actor())
    print(
        f"checkpoint {checkpoint_label(result.id)}: {result.seq} events, head hash {result.hash}, "
        f"at {result.at.isoformat()}"
    )
    if result.channel:
        print(f"posting it to {result.channel} (the compliance channel)")
    else:
        print("recorded, not posted: set compliance_channel in workflows/policy.yaml to post checkpoints")
    return 0
