"""`accessbot directive issue`: check the draft, show its impact (a dry run stops there), issue it, and
with `--wait` follow the delivery of its notices."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from bot.cli.arguments import moment
from bot.cli.common import EXIT_FAILURE, UsageError, actor, ready_context
from bot.cli.output import print_record, safe
from bot.config import Settings
from bot.domain.status import DirectivePhase, DirectiveStatus
from bot.domain.text import clean_text
from bot.present.directive_records import ImpactRecord, IssuedRecord, PreviewRecord

if TYPE_CHECKING:
    from bot.domain.directives import Draft
    from bot.services.context import Context
    from bot.store.tables import Directive


def issue(settings: Settings, args: argparse.Namespace) -> int:
    """Issue the directive the arguments describe, or with `--dry-run` only measure it. Raises
    UsageError when the notice file cannot be read or the draft is not valid. With `--wait`, 1 when a
    notice failed or the wait timed out."""
    from bot.services import directives

    ctx = ready_context(settings)
    draft = _draft(ctx, args)
    if args.dry_run:
        with ctx.read() as session:
            measured = directives.measure(ctx, session, draft)
        impact = ImpactRecord.from_service(measured.as_dict())
        if args.json:
            print_record(PreviewRecord(dry_run=True, impact=impact))
        else:
            print("dry run: nothing was changed; issuing it now would do this:")
            _print_impact(impact)
        return 0
    issued = directives.issue(ctx, actor=actor(), draft=draft)
    impact = ImpactRecord.from_service(issued.impact.as_dict())
    directive = issued.directive
    if args.json:
        status = DirectiveStatus(directive.status)
        print_record(IssuedRecord(dry_run=False, impact=impact, id=directive.id or 0, status=status))
    else:
        print(f"D{directive.id} issued: {_when(directive)}")
        _print_impact(impact)
    if args.wait:
        return _wait_for_delivery(ctx, directive.id or 0, issued.phase, args.wait_timeout)
    return 0


def _draft(ctx: Context, args: argparse.Namespace) -> Draft:
    from bot.domain.directives import DirectiveError, check_draft

    try:
        notice = args.notice_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--notice-file {args.notice_file}: cannot be read ({error})") from None
    effective = moment("--effective-at", args.effective_at) if args.effective_at else None
    try:
        # Free text is stored as clean_text leaves it (a NUL in the notice file would otherwise be kept
        # by SQLite and refused by PostgreSQL); check_draft then sees what will be stored.
        return check_draft(
            title=clean_text(args.title),
            authority=clean_text(args.authority),
            reference=clean_text(args.reference),
            notice=clean_text(notice),
            models=args.models.split(","),
            known_models=set(ctx.catalog.models),
            population=args.population,
            action=args.action,
            effective_at=effective,
            now=ctx.clock(),
        )
    except DirectiveError as error:
        raise UsageError(str(error)) from None


def _when(directive: Directive) -> str:
    if directive.status == DirectiveStatus.ACTIVE:
        return "in effect now"
    return f"scheduled for {directive.effective_at.isoformat()}"


def _print_impact(impact: ImpactRecord) -> None:
    for model in impact.models:
        line = f"  {safe(model.model)}: {model.grants_suspended} grant(s) suspended"
        if model.grants_already_suspended:
            line += f" ({model.grants_already_suspended} already suspended)"
        line += f", {model.requests_stopped} pending request(s) stopped"
        print(line)
    channels = ", ".join(safe(c) for c in impact.channels_to_notify) or "none"
    print(f"  people to notify: {impact.people_to_notify}; channels: {channels}")
    if impact.not_in_directory:
        named = ", ".join(safe(u) for u in impact.not_in_directory)
        print(
            f"  not in the directory: {named} (Slack is asked about each before the DM; anyone it does "
            "not know is reported as not notified)"
        )


def _wait_for_delivery(ctx: Context, directive_id: int, phase: DirectivePhase, timeout: float) -> int:
    """Print the notices' delivery counts each time they change, once a second, until none is on the
    way (0, or 1 if any failed) or `timeout` seconds have passed (1)."""
    from bot.services.directives import delivery_counts

    deadline = time.monotonic() + timeout
    last = None
    while True:
        with ctx.read() as session:
            counts = delivery_counts(session, directive_id, phase)
        if counts != last:
            print(
                f"  notices: {counts['sent']} sent of {counts['total']}, {counts['failed']} failed, "
                f"{counts['pending']} on the way",
                flush=True,
            )
            last = counts
        if counts["pending"] == 0:
            return 0 if counts["failed"] == 0 else EXIT_FAILURE
        if time.monotonic() > deadline:
            print(
                f"accessbot: gave up waiting: {counts['pending']} notice(s) still on the way "
                "(is `accessbot serve` running?)",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        time.sleep(1.0)
