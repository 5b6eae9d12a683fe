"""`accessbot directive list`, `lift ID` and `report ID` (as text, JSON or the HTML evidence page):
directives once issued."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.arguments import directive_id
from bot.cli.common import UsageError, actor, ready_context, ready_database
from bot.cli.output import json_text, print_records, safe, write_file
from bot.config import Settings
from bot.domain.status import GrantStatus
from bot.domain.text import clean_text
from bot.present.directive_records import DirectiveReport, ReportGrant, ReportPerson

if TYPE_CHECKING:
    from bot.services.context import Context

COLUMNS = ("id", "reference", "status", "action", "population", "models", "effective_at")
REPORT_FORMATS = ("text", "json", "html")


def list_all(settings: Settings, args: argparse.Namespace) -> int:
    """Every issued directive, oldest first (lifted ones too)."""
    from bot.services.directives import list_directives

    db = ready_database(settings)
    with db.read() as session:
        records = list_directives(session)
    print_records(records, args.json, COLUMNS)
    return 0


def lift(settings: Settings, args: argparse.Namespace) -> int:
    """Lift the directive (withdraw it if still scheduled) and say how many grants came back. Raises
    UsageError when the ID is not one, or the service refuses (no such directive, already lifted, the
    reason too long)."""
    from bot.services import directives
    from bot.services.context import Refusal

    number = directive_id(args.id, "lift")
    reason = clean_text(args.reason) if args.reason is not None else None
    ctx = ready_context(settings)
    try:
        lifted = directives.lift(ctx, actor=actor(), directive_id=number, reason=reason)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    extra = (
        f"; {lifted.still_suspended} stay suspended under other directives" if lifted.still_suspended else ""
    )
    print(f"D{lifted.directive.id} lifted: {lifted.reinstated} grant(s) reinstated{extra}")
    return 0


def report(settings: Settings, args: argparse.Namespace) -> int:
    """Everyone the directive affected and what happened to them, in `--format` (`--json` is `--format
    json`): text lines (the directive, the summary, one line per person, one per channel post), the
    DirectiveReport as JSON, or the evidence page as one self-contained HTML document. Printed, or with
    `--output FILE` put in that file whole (never half-written) and the file named on standard output.
    Raises UsageError when the ID is not one, there is no such directive, `--json` and `--format`
    disagree, or the file cannot be written."""
    from bot.services import directives
    from bot.services.context import Refusal

    number = directive_id(args.id, "report")
    form = _report_format(args)
    ctx = ready_context(settings)
    try:
        found = directives.report(ctx, number)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    if form == "json":
        text = json_text(found.as_json()) + "\n"
    elif form == "html":
        text = _page(settings, ctx, found)
    else:
        text = "".join(line + "\n" for line in _report_lines(found))
    if args.output is None:
        sys.stdout.write(text)
        return 0
    write_file(args.output, text)
    print(f"wrote the {form} report of D{found.directive.id} to {safe(args.output)}")
    return 0


def _report_format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json means --format json, not --format {args.format}")
    return "json" if args.json else args.format or "text"


def _page(settings: Settings, ctx: Context, found: DirectiveReport) -> str:
    """The evidence page, stamped with the context's clock and this release."""
    from jinja2 import TemplateNotFound

    from bot import __version__
    from bot.present.directive_page import evidence_page
    from bot.runtime import build_page_renderer

    data = evidence_page(
        found,
        model_names={slug: model.name for slug, model in ctx.catalog.models.items()},
        generated_at=ctx.clock(),
        version=__version__,
    )
    try:
        return build_page_renderer(settings).render("directive_report", **data)
    except TemplateNotFound:
        raise UsageError(
            f"ACCESSBOT_TEMPLATES_DIR: {settings.templates_dir} has no directive_report.html"
        ) from None


def _report_lines(found: DirectiveReport) -> list[str]:
    d, s = found.directive, found.summary
    lines = [
        f"D{d.id} {safe(d.reference)}: {safe(d.title)} ({safe(d.status)}, {safe(d.action)}, "
        f"{safe(d.population)})",
        f"{s.people} people affected; {s.grants_suspended} grant(s) suspended, "
        f"{s.grants_reinstated} reinstated; {s.requests_stopped} request(s) stopped, "
        f"{s.requests_denied} denied; {s.notices_failed} notice(s) not delivered",
    ]
    # Every line below is built from stored data (names, models, Slack's error strings): made printable
    # as a whole, since a value with a newline or an escape could forge or hide a line.
    for person in found.people:
        lines.append(
            safe(f"  {person.slack_user_id} {person.name or '(not in directory)'}: {_outcomes(person)}")
        )
    for channel in found.channels:
        error = f" ({channel.error})" if channel.error else ""
        lines.append(safe(f"  channel {channel.channel}: {channel.phase} {channel.status}{error}"))
    return lines


def _outcomes(person: ReportPerson) -> str:
    grants = ", ".join(f"G{g.grant_id} {g.model} {_grant_outcome(g)}" for g in person.grants)
    requests = ", ".join(f"R{r.request_id} {r.model} {r.what}" for r in person.requests)
    notices = ", ".join(
        f"{n.phase}: {n.status}" + (f" ({n.error})" if n.error else "") for n in person.notices
    )
    return "; ".join(p for p in (grants, requests, f"notice {notices}" if notices else "") if p)


def _grant_outcome(grant: ReportGrant) -> str:
    if grant.released_at and grant.status_now == GrantStatus.ACTIVE:
        return "suspended, then reinstated"
    if grant.status_now == GrantStatus.SUSPENDED:
        return f"suspended (held by {' '.join(grant.held_by)})" if grant.held_by else "suspended"
    return f"suspended, now {grant.status_now}"
