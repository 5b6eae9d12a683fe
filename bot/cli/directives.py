"""`accessbot directive list`, `lift ID` and `report ID`: directives once issued."""

from __future__ import annotations

import argparse

from bot.cli.arguments import directive_id
from bot.cli.common import UsageError, actor, ready_context, ready_database
from bot.cli.output import print_record, print_records, safe
from bot.config import Settings
from bot.domain.status import GrantStatus
from bot.domain.text import clean_text
from bot.present.directive_records import ReportGrant, ReportPerson

COLUMNS = ("id", "reference", "status", "action", "population", "models", "effective_at")


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
    """Everyone the directive affected and what happened to them, as a DirectiveReport or as lines: the
    directive, the summary, one line per person, one per channel post. Raises UsageError when the ID is
    not one or there is no such directive."""
    from bot.services import directives
    from bot.services.context import Refusal

    number = directive_id(args.id, "report")
    ctx = ready_context(settings)
    try:
        found = directives.report(ctx, number)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    if args.json:
        print_record(found)
        return 0
    d, s = found.directive, found.summary
    print(
        f"D{d.id} {safe(d.reference)}: {safe(d.title)} ({safe(d.status)}, {safe(d.action)}, "
        f"{safe(d.population)})"
    )
    print(
        f"{s.people} people affected; {s.grants_suspended} grant(s) suspended, "
        f"{s.grants_reinstated} reinstated; {s.requests_stopped} request(s) stopped, "
        f"{s.requests_denied} denied; {s.notices_failed} notice(s) not delivered"
    )
    # Every line below is built from stored data (names, models, Slack's error strings): made printable
    # as a whole, since a value with a newline or an escape could forge or hide a line.
    for person in found.people:
        print(safe(f"  {person.slack_user_id} {person.name or '(not in directory)'}: {_outcomes(person)}"))
    for channel in found.channels:
        error = f" ({channel.error})" if channel.error else ""
        print(safe(f"  channel {channel.channel}: {channel.phase} {channel.status}{error}"))
    return 0


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
