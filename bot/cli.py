"""`accessbot`: the command-line entry point.

Bad input gets one line on stderr and exit code 2; a command that reaches the database or Slack and
fails gets one line and exit code 1. Only `serve` and `socket` need Slack secrets.

Text rules (bot/domain/text.py): ids on the command line are ASCII digits within the database's integer
range; free text (directive fields, the notice file, reasons) is stored as clean_text leaves it; every
value from data printed in text mode goes through terminal_safe (--json output is JSON, whose escapes
already cover control characters); every CSV cell goes through csv_safe.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlmodel import col, select

from bot import __version__
from bot.config import ConfigError, Settings, load_settings
from bot.domain.people import DirectoryError
from bot.domain.text import MAX_DB_ID, clean_text, csv_safe, parse_db_id, terminal_safe
from bot.workflows import WorkflowError

EXIT_USAGE = 2
EXIT_FAILURE = 1


class UsageError(Exception):
    """Bad input from the person at the terminal: one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, not the usage dump
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _positive(text: str) -> int:
    """A count or a number of seconds: ASCII digits from 1 to MAX_DB_ID (a limit goes into SQL, where
    PostgreSQL refuses a bigger one). `int()` would also take other scripts' digits, signs and `_`."""
    value = parse_db_id(text)
    if value is not None:
        return value
    if text.isascii() and text.isdigit():
        problem = "must be at least 1" if int(text) < 1 else f"must be at most {MAX_DB_ID}"
        raise argparse.ArgumentTypeError(f"{problem}, not {text}")
    raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")


def _message_id(text: str) -> int:
    """An outbox message ID as `accessbot outbox list` shows it: ASCII digits (see parse_db_id)."""
    value = parse_db_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a message ID (a whole number, like 12)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="accessbot", description="Who may use which AI models, decided in Slack.")
    parser.add_argument("--version", action="version", version=f"accessbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    serve = commands.add_parser(
        "serve", help="run the Slack app over HTTP (POST /slack/events, GET /healthz)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (default: PORT, else 3000)")
    serve.set_defaults(run=cmd_serve)

    socket = commands.add_parser("socket", help="run the Slack app over Socket Mode (needs SLACK_APP_TOKEN)")
    socket.set_defaults(run=cmd_socket)

    worker = commands.add_parser(
        "worker", help="deliver the outbox and run scheduled jobs, without serving Slack (for scale-out)"
    )
    worker.set_defaults(run=cmd_worker)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_commands.required = True
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(run=cmd_db_upgrade)
    db_commands.add_parser("current", help="show the schema revision").set_defaults(run=cmd_db_current)

    directory = commands.add_parser("directory", help="the people directory")
    dir_commands = directory.add_subparsers(dest="directory_command", metavar="ACTION", parser_class=_Parser)
    dir_commands.required = True
    imp = dir_commands.add_parser("import", help="import a directory CSV (all rows or none)")
    imp.add_argument("file", type=Path)
    imp.set_defaults(run=cmd_directory_import)
    show = dir_commands.add_parser("show", help="show one person (Slack user ID or email)")
    show.add_argument("user")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=cmd_directory_show)

    workflows = commands.add_parser("workflows", help="the model catalog, chains and policy (workflows/)")
    wf_commands = workflows.add_subparsers(dest="workflows_command", metavar="ACTION", parser_class=_Parser)
    wf_commands.required = True
    wf_commands.add_parser("check", help="validate workflows/ and name each problem").set_defaults(
        run=cmd_workflows_check
    )

    for noun, statuses in (
        ("requests", ("pending", "approved", "denied", "cancelled", "expired")),
        ("grants", ("active", "suspended", "expired", "revoked")),
    ):
        group = commands.add_parser(noun, help=f"access {noun}")
        sub = group.add_subparsers(dest=f"{noun}_command", metavar="ACTION", parser_class=_Parser)
        sub.required = True
        lister = sub.add_parser("list", help=f"list {noun}")
        lister.add_argument("--status", choices=statuses)
        lister.add_argument("--limit", type=_positive, help="at most this many")
        lister.add_argument("--json", action="store_true", help="print a JSON array")
        lister.set_defaults(run=cmd_requests_list if noun == "requests" else cmd_grants_list)

    directive = commands.add_parser("directive", help="orders that restrict models for a population")
    d_commands = directive.add_subparsers(dest="directive_command", metavar="ACTION", parser_class=_Parser)
    d_commands.required = True
    issue = d_commands.add_parser("issue", help="issue a directive (now, or at --effective-at)")
    issue.add_argument("--title", required=True)
    issue.add_argument("--authority", required=True, help="who issued the order")
    issue.add_argument("--reference", required=True, help="citation, e.g. 15 CFR 744.23")
    issue.add_argument("--models", required=True, help="comma-separated model slugs, e.g. mythos-5,fable-5")
    issue.add_argument(
        "--population", required=True, help="everyone | non-us-persons | citizenship:XX;YY | users:U1;U2"
    )
    issue.add_argument("--action", required=True, help="suspend | require-licence | notice")
    issue.add_argument("--notice-file", required=True, type=Path, help="file with the notice text")
    issue.add_argument("--effective-at", help="ISO 8601 time with a zone (default: now)")
    issue.add_argument("--dry-run", action="store_true", help="show the impact and change nothing")
    issue.add_argument("--wait", action="store_true", help="show delivery progress until every notice is out")
    issue.add_argument(
        "--wait-timeout", type=_positive, default=900, help="seconds --wait gives up after (900)"
    )
    issue.add_argument("--json", action="store_true", help="print the result as JSON")
    issue.set_defaults(run=cmd_directive_issue)
    d_list = d_commands.add_parser("list", help="list directives")
    d_list.add_argument("--json", action="store_true", help="print a JSON array")
    d_list.set_defaults(run=cmd_directive_list)
    d_lift = d_commands.add_parser("lift", help="lift a directive; suspended grants come back")
    d_lift.add_argument("id", help="directive ID, e.g. D3")
    d_lift.add_argument("--reason", help="why (told to the people affected)")
    d_lift.set_defaults(run=cmd_directive_lift)
    d_report = d_commands.add_parser("report", help="everyone a directive affected and what happened to them")
    d_report.add_argument("id", help="directive ID, e.g. D3")
    d_report.add_argument("--json", action="store_true", help="print JSON")
    d_report.set_defaults(run=cmd_directive_report)

    outbox = commands.add_parser("outbox", help="outgoing Slack messages")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", parser_class=_Parser)
    outbox_commands.required = True
    outbox_list = outbox_commands.add_parser("list", help="list queued, sent and failed messages")
    outbox_list.add_argument("--status", choices=("pending", "sending", "sent", "failed"))
    outbox_list.add_argument("--limit", type=_positive, default=200, help="at most this many (200)")
    outbox_list.add_argument("--json", action="store_true", help="print a JSON array")
    outbox_list.set_defaults(run=cmd_outbox_list)
    retry = outbox_commands.add_parser("retry", help="queue failed messages again (after fixing the cause)")
    retry.add_argument("ids", nargs="+", type=_message_id, metavar="ID")
    retry.set_defaults(run=cmd_outbox_retry)

    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=_Parser)
    audit_commands.required = True
    export = audit_commands.add_parser("export", help="export every audit event")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    export.set_defaults(run=cmd_audit_export)

    demo = commands.add_parser(
        "demo", help="play a request through approval to a grant, with no Slack account"
    )
    demo.set_defaults(run=cmd_demo)
    return parser


# -- commands ------------------------------------------------------------------------------------------


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import build_runtime
    from bot.server import serve

    runtime = build_runtime(settings)
    serve(runtime, args.host, args.port or settings.port, settings.http_threads)
    return 0


def cmd_socket(settings: Settings, args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.runtime import build_runtime

    runtime = build_runtime(settings, socket_mode=True)
    runtime.start_background()
    try:
        SocketModeHandler(runtime.app, settings.slack_app_token).start()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else "unknown"
        return _fail(
            EXIT_FAILURE, f"Slack refused the Socket Mode connection ({code}); check SLACK_APP_TOKEN"
        )
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal
    import threading

    from bot.runtime import build_worker

    runtime = build_worker(settings)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    runtime.start_background()
    logging.getLogger("bot.worker").info("delivering the outbox and running scheduled jobs")
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
    return 0


def _database(settings: Settings) -> Any:
    from bot.store.db import Database

    return Database(settings.database_url)


def _context(settings: Settings) -> Any:
    from bot.runtime import build_context

    return build_context(settings)


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store import migrate

    db = _database(settings)
    migrate.upgrade(db)
    print(f"database is at revision {_safe(migrate.current_revision(db))}")
    return 0


def cmd_db_current(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store import migrate

    db = _database(settings)
    current, head = migrate.current_revision(db), migrate.head_revision()
    state = "up to date" if current == head else f"behind (latest is {head}; run `accessbot db upgrade`)"
    print(f"{_safe(current or 'empty')}: {_safe(state)}")
    return 0


def _grant_outcome(grant: dict[str, Any]) -> str:
    if grant["released_at"] and grant["status_now"] == "active":
        return "suspended, then reinstated"
    return "suspended" if grant["status_now"] == "suspended" else f"suspended, now {grant['status_now']}"


def _require_schema(db: Any) -> None:
    from bot.store import migrate

    if migrate.pending(db):
        raise UsageError("the database schema is not up to date; run `accessbot db upgrade` first")


def _ready_database(settings: Settings) -> Any:
    db = _database(settings)
    _require_schema(db)
    return db


def cmd_directory_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.directory import import_directory

    db = _ready_database(settings)
    result = import_directory(db, args.file, actor=_actor())
    print(
        f"imported {_safe(args.file)}: {result.added} added, {result.changed} updated, "
        f"{result.unchanged} unchanged"
    )
    return 0


def cmd_directory_show(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store.directory import find_person

    db = _ready_database(settings)
    with db.read() as session:
        person = find_person(session, args.user)
    if person is None:
        raise UsageError(f"nobody in the directory matches '{args.user}'")  # _fail makes it printable
    record = {
        "slack_user_id": person.slack_user_id,
        "email": person.email,
        "name": person.name,
        "manager_email": person.manager_email,
        "department": person.department,
        "work_country": person.work_country,
        "citizenships": sorted(person.citizenships),
        "us_person": {True: "yes", False: "no", None: "unknown"}[person.us_person],
        "roles": sorted(person.roles),
    }
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        width = max(len(k) for k in record)
        for key, value in record.items():
            shown = ";".join(value) if isinstance(value, list) else (value if value is not None else "")
            print(f"{key:<{width}}  {terminal_safe(shown)}")
    return 0


def cmd_workflows_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.workflows import load_catalog, slack_warnings

    catalog = load_catalog(settings.workflows_dir)
    for warning in slack_warnings(catalog, settings.workflows_dir):
        print(f"warning: {_safe(warning)}", file=sys.stderr)
    print(
        f"{_safe(settings.workflows_dir)}: OK ({len(catalog.models)} models, {len(catalog.chains)} chains, "
        f"{len(catalog.policy.embargoed_countries)} embargoed countries)"
    )
    return 0


def _safe(value: object) -> str:
    """Any value, as text that can be printed on one terminal line (see terminal_safe)."""
    return terminal_safe("" if value is None else str(value))


def _actor() -> str:
    """Who is running this command, for the audit trail: the operating-system user name comes from the
    environment and may hold anything, so it is cleaned like other text and cut to the actor column's
    64 characters (PostgreSQL would refuse a longer one and SQLite keep it)."""
    from bot.store.audit import cli_actor

    return clean_text(cli_actor())[:64]


def _print_records(records: list[dict[str, Any]], as_json: bool, columns: Sequence[str]) -> None:
    """A JSON array (json.dumps escapes control characters), or a table of `columns` whose cells are
    made printable with terminal_safe (a newline in a cell would forge a row, an escape recolour it)."""
    if as_json:
        print(json.dumps(records, indent=2))
        return
    if not records:
        print("(none)")
        return
    rows = [[_safe(r.get(c)) for c in columns] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def cmd_requests_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.queries import request_record
    from bot.store.requests import list_requests

    db = _ready_database(settings)
    with db.read() as session:
        records = [request_record(r) for r in list_requests(session, args.status, args.limit)]
    _print_records(
        records,
        args.json,
        ("id", "slack_user_id", "model", "status", "current_step", "created_at", "decided_at"),
    )
    return 0


def cmd_grants_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.queries import grant_record
    from bot.store.requests import list_grants

    db = _ready_database(settings)
    with db.read() as session:
        records = [grant_record(g) for g in list_grants(session, args.status, args.limit)]
    _print_records(records, args.json, ("id", "slack_user_id", "model", "status", "created_at", "expires_at"))
    return 0


def _directive_id(text: str, action: str) -> int:
    """A directive ID argument: `D3`, `d3`, `#3` or `3`, the number as parse_db_id allows.

    Raises UsageError naming the argument as typed (printed through terminal_safe by _fail)."""
    from bot.slack.command_text import CommandError, parse_id

    usage = f"accessbot directive {action} D3"
    try:
        return parse_id(text, "D", "directive", usage)
    except CommandError:
        # Not the Slack message: that one is mrkdwn, with the typed text entity-escaped.
        raise UsageError(f"'{text}' is not a directive ID (like D3); usage: {usage}") from None


def cmd_directive_issue(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.domain.directives import DirectiveError, check_draft
    from bot.services import directives

    ctx = _context(settings)
    _require_schema(ctx.db)
    try:
        notice = args.notice_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--notice-file {args.notice_file}: cannot be read ({error})") from None
    effective = None
    if args.effective_at:
        try:
            effective = datetime.fromisoformat(args.effective_at)
        except ValueError:
            raise UsageError(f"--effective-at '{args.effective_at}' is not an ISO 8601 time") from None
    try:
        # Free text is stored as clean_text leaves it (a NUL in the notice file would otherwise be kept
        # by SQLite and refused by PostgreSQL); check_draft then sees what will be stored.
        draft = check_draft(
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
    if args.dry_run:
        with ctx.read() as session:
            impact = directives.measure(ctx, session, draft.models, draft.population, draft.action)
        _print_impact(impact.as_dict(), None, args.json, dry_run=True)
        return 0
    issued = directives.issue(ctx, actor=_actor(), draft=draft)
    directive_id = issued.directive.id or 0
    _print_impact(issued.impact.as_dict(), issued.directive, args.json, dry_run=False)
    if args.wait:
        return _wait_for_delivery(ctx, directive_id, issued.phase, args.wait_timeout)
    return 0


def _print_impact(impact: dict[str, Any], directive: Any, as_json: bool, *, dry_run: bool) -> None:
    if as_json:
        record = {"dry_run": dry_run, "impact": impact}
        if directive is not None:
            record["id"] = directive.id
            record["status"] = directive.status
        print(json.dumps(record, indent=2))
        return
    if directive is not None:
        when = (
            "in effect now"
            if directive.status == "active"
            else f"scheduled for {directive.effective_at.isoformat()}"
        )
        print(f"D{directive.id} issued: {when}")
    else:
        print("dry run: nothing was changed; issuing it now would do this:")
    for model in impact["models"]:
        line = f"  {_safe(model['model'])}: {model['grants_suspended']} grant(s) suspended"
        if model["grants_already_suspended"]:
            line += f" ({model['grants_already_suspended']} already suspended)"
        line += f", {model['requests_stopped']} pending request(s) stopped"
        print(line)
    channels = ", ".join(_safe(c) for c in impact["channels_to_notify"]) or "none"
    print(f"  people to notify: {impact['people_to_notify']}; channels: {channels}")
    if impact["not_in_directory"]:
        named = ", ".join(_safe(u) for u in impact["not_in_directory"])
        print(
            f"  not in the directory: {named} (Slack is asked about each before the DM; anyone it does "
            "not know is reported as not notified)"
        )


def _wait_for_delivery(ctx: Any, directive_id: int, phase: str, timeout: float) -> int:
    import time

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


def cmd_directive_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.directives import list_directives

    db = _ready_database(settings)
    with db.read() as session:
        records = list_directives(session)
    if not args.json:
        for record in records:
            record["models"] = ",".join(record["models"])
    _print_records(
        records, args.json, ("id", "reference", "status", "action", "population", "models", "effective_at")
    )
    return 0


def cmd_directive_lift(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import directives
    from bot.services.context import Refusal

    directive_id = _directive_id(args.id, "lift")
    reason = clean_text(args.reason) if args.reason is not None else None
    ctx = _context(settings)
    _require_schema(ctx.db)
    try:
        lifted = directives.lift(ctx, actor=_actor(), directive_id=directive_id, reason=reason)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    extra = (
        f"; {lifted.still_suspended} stay suspended under other directives" if lifted.still_suspended else ""
    )
    print(f"D{lifted.directive.id} lifted: {lifted.reinstated} grant(s) reinstated{extra}")
    return 0


def cmd_directive_report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import directives
    from bot.services.context import Refusal

    directive_id = _directive_id(args.id, "report")
    ctx = _context(settings)
    _require_schema(ctx.db)
    try:
        report = directives.report(ctx, directive_id)
    except Refusal as refusal:
        raise UsageError(refusal.message) from None
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    d, s = report["directive"], report["summary"]
    print(
        f"D{d['id']} {_safe(d['reference'])}: {_safe(d['title'])} "
        f"({_safe(d['status'])}, {_safe(d['action'])}, {_safe(d['population'])})"
    )
    print(
        f"{s['people']} people affected; {s['grants_suspended']} grant(s) suspended, "
        f"{s['grants_reinstated']} reinstated; {s['requests_stopped']} request(s) stopped, "
        f"{s['requests_denied']} denied; "
        f"{s['notices_failed']} notice(s) not delivered"
    )
    # Every line below is built from stored data (names, models, Slack's error strings): made printable
    # as a whole, since a value with a newline or an escape could forge or hide a line.
    for person in report["people"]:
        grants = ", ".join(f"G{g['grant_id']} {g['model']} {_grant_outcome(g)}" for g in person["grants"])
        requests = ", ".join(f"R{r['request_id']} {r['model']} {r['what']}" for r in person["requests"])
        notices = ", ".join(
            f"{n['phase']}: {n['status']}" + (f" ({n['error']})" if n["error"] else "")
            for n in person["notices"]
        )
        parts = [p for p in (grants, requests, f"notice {notices}" if notices else "") if p]
        name = person["name"] or "(not in directory)"
        print(_safe(f"  {person['slack_user_id']} {name}: {'; '.join(parts)}"))
    for channel in report["channels"]:
        error = f" ({channel['error']})" if channel["error"] else ""
        print(_safe(f"  channel {channel['channel']}: {channel['phase']} {channel['status']}{error}"))
    return 0


def cmd_outbox_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.notify.outbox import describe
    from bot.store.outbox import recent

    db = _ready_database(settings)
    with db.read() as session:
        records = [describe(row) for row in recent(session, args.status, args.limit)]
    _print_records(records, args.json, ("id", "kind", "to", "status", "attempts", "last_error", "created_at"))
    return 0


def cmd_outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store.outbox import requeue_failed

    db = _ready_database(settings)
    queued = requeue_failed(db, args.ids, actor=_actor())
    missing = sorted(set(args.ids) - set(queued))
    if missing:
        raise UsageError(f"not failed or not found: {', '.join(map(str, missing))} (queued {len(queued)})")
    print(f"queued {len(queued)} message(s) again")
    return 0


AUDIT_COLUMNS = ("id", "at", "actor", "action", "subject_type", "subject_id", "before", "after", "detail")


def audit_csv_row(record: dict[str, Any]) -> list[object]:
    """One audit event as CSV cells, in AUDIT_COLUMNS order: JSON columns (before, after, detail) as
    compact JSON text unless they hold a plain string, and every cell through csv_safe, so that an actor
    or a detail starting with `=` reaches a spreadsheet as text, not a formula (OWASP CSV injection)."""
    cells = []
    for column in AUDIT_COLUMNS:
        value = record[column]
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True)
        cells.append(csv_safe(value))
    return cells


def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.queries import audit_record
    from bot.store.tables import AuditEvent

    db = _ready_database(settings)
    out = args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out) if args.format == "csv" else None
        if writer:
            writer.writerow(AUDIT_COLUMNS)
        count = 0
        with db.read() as session:
            for event in session.exec(
                select(AuditEvent).order_by(col(AuditEvent.id)).execution_options(yield_per=1000)
            ):
                record = audit_record(event)
                if writer:
                    writer.writerow(audit_csv_row(record))
                else:
                    out.write(json.dumps(record, sort_keys=True) + "\n")
                count += 1
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"wrote {count} audit events to {_safe(args.output)}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo()


# -- entry point -----------------------------------------------------------------------------------------


def _fail(code: int, message: str) -> int:
    """One line on stderr. Messages quote what was typed and what files and the database hold, so the
    line is made printable first (terminal_safe)."""
    print(f"accessbot: {terminal_safe(message)}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run `accessbot ARGV` and return its exit code (0 done, 1 failed, 2 bad input or settings).
    `environ` replaces os.environ (and .env) when given, so a caller can run it in its own process."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        settings = load_settings() if environ is None else load_settings(environ, env_file=None)
        logging.basicConfig(
            level=settings.log_level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        if settings.log_level != "DEBUG":
            logging.getLogger("alembic").setLevel(logging.WARNING)
        # Slack's libraries log whole payloads (messages, justifications, tokens in URLs) at DEBUG.
        for name in ("slack_sdk", "slack_bolt", "bot.slack.bolt"):
            logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(settings.log_level)))
        run: Callable[[Settings, argparse.Namespace], int] = args.run
        return run(settings, args)
    except UsageError as error:
        return _fail(EXIT_USAGE, str(error))
    except ConfigError as error:
        return _fail(EXIT_USAGE, str(error))
    except WorkflowError as error:
        for problem in error.problems:
            print(terminal_safe(str(problem)), file=sys.stderr)
        return _fail(EXIT_USAGE, f"workflows are not valid ({len(error.problems)} problem(s))")
    except DirectoryError as error:
        source = getattr(args, "file", "directory")
        for line, message in error.problems:
            # The messages quote the file's cells: one printable line each.
            shown = f"{source}:{line}: {message}" if line else f"{source}: {message}"
            print(terminal_safe(shown), file=sys.stderr)
        return _fail(EXIT_USAGE, f"nothing was imported ({len(error.problems)} problem(s))")
    except (OperationalError, ProgrammingError, DBAPIError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return _fail(EXIT_FAILURE, f"database error: {reason} (check DATABASE_URL)")
    except (ArgumentError, NoSuchModuleError):
        return _fail(EXIT_USAGE, "DATABASE_URL is not a database URL I can use (e.g. sqlite:///accessbot.db)")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
