"""The `accessbot` commands and their arguments. Each command's handler (`run`) lives in the module of
its family; parsing errors are one line (UsageError), not argparse's usage dump."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any, NoReturn

from bot import __version__
from bot.cli import (
    audit,
    db,
    demo,
    directive,
    directives,
    directory,
    keys,
    licences,
    lists,
    outbox,
    reports,
    serving,
    webhooks,
    workflows,
)
from bot.cli.arguments import message_id, output_file, positive, words
from bot.cli.common import UsageError
from bot.domain.status import GrantStatus, LicenceStatus, OutboxStatus, RequestStatus


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _actions(parser: argparse.ArgumentParser, dest: str) -> Any:
    """The required ACTION of a command family (`accessbot db upgrade`)."""
    actions = parser.add_subparsers(dest=dest, metavar="ACTION", parser_class=_Parser)
    actions.required = True
    return actions


# Built once per process: the parser holds no state of a parse, and `main` may run many commands in one
# process (an embedding program, the tests), each of which would otherwise build every subcommand again.
@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """Every command; a parsed command carries its handler as `run` (a bot.cli.common.Command). Its
    `parse_args` raises UsageError for bad arguments (exits only for --help and --version)."""
    parser = _Parser(prog="accessbot", description="Who may use which AI models, decided in Slack.")
    parser.add_argument("--version", action="version", version=f"accessbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    _add_serving(commands)
    _add_setup(commands)
    _add_lists(commands)
    _add_directive(commands)
    _add_licence(commands)
    _add_keys(commands)
    _add_outbox_and_audit(commands)
    _add_webhooks(commands)
    _add_reports(commands)
    commands.add_parser(
        "demo", help="play a request through approval to a grant, with no Slack account"
    ).set_defaults(run=demo.run)
    return parser


def _add_serving(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="run the Slack app over HTTP (POST /slack/events, GET /healthz)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (default: PORT, else 3000)")
    serve.set_defaults(run=serving.serve)
    commands.add_parser(
        "socket", help="run the Slack app over Socket Mode (needs SLACK_APP_TOKEN)"
    ).set_defaults(run=serving.socket)
    commands.add_parser(
        "worker", help="deliver the outbox and run scheduled jobs, without serving Slack (for scale-out)"
    ).set_defaults(run=serving.worker)


def _add_setup(commands: Any) -> None:
    db_actions = _actions(commands.add_parser("db", help="database schema"), "db_command")
    db_actions.add_parser("upgrade", help="apply pending migrations").set_defaults(run=db.upgrade)
    db_actions.add_parser("current", help="show the schema revision").set_defaults(run=db.current)

    dir_actions = _actions(commands.add_parser("directory", help="the people directory"), "directory_command")
    imp = dir_actions.add_parser("import", help="import a directory CSV (all rows or none)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--full",
        action="store_true",
        help="the file is the whole directory: people on record and not in it are marked departed",
    )
    imp.add_argument("--dry-run", action="store_true", help="say what the import would do; change nothing")
    imp.add_argument(
        "--force", action="store_true", help="with --full: depart more people than the policy allows at once"
    )
    imp.set_defaults(run=directory.import_file)
    show = dir_actions.add_parser("show", help="show one person (Slack user ID or email)")
    show.add_argument("user")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=directory.show)

    wf_actions = _actions(
        commands.add_parser("workflows", help="the model catalog, chains and policy (workflows/)"),
        "workflows_command",
    )
    wf_actions.add_parser("check", help="validate workflows/ and name each problem").set_defaults(
        run=workflows.check
    )


def _add_lists(commands: Any) -> None:
    for noun, statuses, run in (
        ("requests", RequestStatus, lists.requests),
        ("grants", GrantStatus, lists.grants),
    ):
        actions = _actions(commands.add_parser(noun, help=f"access {noun}"), f"{noun}_command")
        lister = actions.add_parser("list", help=f"list {noun}")
        lister.add_argument("--status", choices=words(statuses))
        lister.add_argument("--limit", type=positive, help="at most this many")
        lister.add_argument("--json", action="store_true", help="print a JSON array")
        lister.set_defaults(run=run)


def _add_directive(commands: Any) -> None:
    actions = _actions(
        commands.add_parser("directive", help="orders that restrict models for a population"),
        "directive_command",
    )
    issue = actions.add_parser("issue", help="issue a directive (now, or at --effective-at)")
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
        "--wait-timeout", type=positive, default=900, help="seconds --wait gives up after (900)"
    )
    issue.add_argument("--json", action="store_true", help="print the result as JSON")
    issue.set_defaults(run=directive.issue)
    listing = actions.add_parser("list", help="list directives")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=directives.list_all)
    lift = actions.add_parser("lift", help="lift a directive; suspended grants come back")
    lift.add_argument("id", help="directive ID, e.g. D3")
    lift.add_argument("--reason", help="why (told to the people affected)")
    lift.set_defaults(run=directives.lift)
    report = actions.add_parser("report", help="everyone a directive affected and what happened to them")
    report.add_argument("id", help="directive ID, e.g. D3")
    report.add_argument(
        "--format",
        choices=directives.REPORT_FORMATS,
        help="text (the default), json, or html: one self-contained page to hand over",
    )
    report.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
    report.add_argument(
        "--output",
        type=output_file,
        help="write to this file instead of standard output (replaced whole, never half-written)",
    )
    report.set_defaults(run=directives.report)


def _add_licence(commands: Any) -> None:
    actions = _actions(
        commands.add_parser(
            "licence", help="export licences (they exempt holders from require-licence directives)"
        ),
        "licence_command",
    )
    add = actions.add_parser("add", help="record one licence")
    add.add_argument("--number", required=True, help="the licence number the authority gave")
    add.add_argument("--authority", required=True, help="who issued it, e.g. BIS")
    add.add_argument("--kind", required=True, help="export | re-export | in-country-transfer | deemed-export")
    add.add_argument("--holder", required=True, help="Slack user ID or e-mail of the person it licenses")
    add.add_argument("--models", required=True, help="model slugs separated by ;, e.g. 'mythos-5;fable-5'")
    add.add_argument("--countries", required=True, help="country codes separated by ;, e.g. 'IN;GB'")
    add.add_argument("--valid-from", required=True, help="first day, YYYY-MM-DD (UTC)")
    add.add_argument("--valid-until", required=True, help="last day, YYYY-MM-DD (UTC)")
    add.add_argument("--conditions", help="the licence's conditions, as text")
    add.set_defaults(run=licences.add)
    imp = actions.add_parser("import", help="import a licence CSV (all rows or none)")
    imp.add_argument("file", type=Path)
    imp.set_defaults(run=licences.import_file)
    listing = actions.add_parser("list", help="list licences")
    listing.add_argument("--holder", help="only this person's (Slack user ID or e-mail)")
    listing.add_argument("--status", choices=words(LicenceStatus))
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=licences.list_all)
    show = actions.add_parser("show", help="show one licence")
    show.add_argument("id", help="licence ID, e.g. L3")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=licences.show)
    revoke = actions.add_parser("revoke", help="revoke a licence; grants that depend on it are suspended")
    revoke.add_argument("id", help="licence ID, e.g. L3")
    revoke.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    revoke.set_defaults(run=licences.revoke)


def _add_keys(commands: Any) -> None:
    actions = _actions(
        commands.add_parser(
            "keys", help="personal keys for the AI gateway (people make them with /access key)"
        ),
        "keys_command",
    )
    listing = actions.add_parser("list", help="list keys, newest first (never the keys themselves)")
    listing.add_argument("--user", help="only this person's (Slack user ID or e-mail)")
    listing.add_argument("--active", action="store_true", help="leave out revoked keys")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=keys.list_all)
    revoke = actions.add_parser("revoke", help="revoke a key; it stops working on the next gateway check")
    revoke.add_argument("id", help="key ID, e.g. K3")
    revoke.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    revoke.set_defaults(run=keys.revoke)


def _add_outbox_and_audit(commands: Any) -> None:
    actions = _actions(commands.add_parser("outbox", help="outgoing Slack messages"), "outbox_command")
    listing = actions.add_parser("list", help="list queued, sent and failed messages")
    listing.add_argument("--status", choices=words(OutboxStatus))
    listing.add_argument("--limit", type=positive, default=200, help="at most this many (200)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=outbox.list_recent)
    retry = actions.add_parser("retry", help="queue failed messages again (after fixing the cause)")
    retry.add_argument("ids", nargs="+", type=message_id, metavar="ID")
    retry.set_defaults(run=outbox.retry)

    audit_actions = _actions(commands.add_parser("audit", help="the audit trail"), "audit_command")
    export = audit_actions.add_parser("export", help="export the audit events (all, or of a time window)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", help="only events at or after this ISO 8601 time with a zone")
    export.add_argument("--until", help="only events before this ISO 8601 time with a zone")
    export.add_argument("--output", type=output_file, help="write to this file instead of standard output")
    export.set_defaults(run=audit.export)
    verify = audit_actions.add_parser(
        "verify", help="check the audit chain: exit 0 if intact, 1 naming the first event tampered with"
    )
    verify.add_argument("--seal", action="store_true", help="seal events not sealed yet before checking")
    verify.set_defaults(run=audit.verify)
    audit_actions.add_parser(
        "checkpoint", help="record the chain's head and post it to the compliance channel"
    ).set_defaults(run=audit.checkpoint)


def _add_webhooks(commands: Any) -> None:
    actions = _actions(
        commands.add_parser("webhooks", help="signed events for receivers (workflows/webhooks.yaml)"),
        "webhooks_command",
    )
    listing = actions.add_parser("list", help="list deliveries, newest first")
    listing.add_argument("--receiver", help="only this receiver's")
    listing.add_argument("--status", choices=words(OutboxStatus))
    listing.add_argument("--limit", type=positive, default=200, help="at most this many (200)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=webhooks.list_recent)
    replay = actions.add_parser("replay", help="send the events since a time again")
    replay.add_argument("--since", required=True, help="ISO 8601 time with a zone, e.g. 2026-03-01T09:00:00Z")
    replay.add_argument("--receiver", help="only to this receiver (default: every one)")
    replay.set_defaults(run=webhooks.replay)


def _add_reports(commands: Any) -> None:
    actions = _actions(commands.add_parser("report", help="reports from recorded history"), "report_command")
    access = actions.add_parser(
        "access",
        help="who could use a model at a time (--model, --at), or what a person could use (--person, --from)",
    )
    access.add_argument("--model", help="model slug, e.g. mythos-5")
    access.add_argument("--at", help="ISO 8601 time with a zone, e.g. 2026-11-27T09:00:00Z")
    access.add_argument("--person", help="Slack user ID or email")
    access.add_argument("--from", dest="start", help="start of the window (ISO 8601 with a zone)")
    access.add_argument("--to", dest="end", help="end of the window (default: now)")
    shape = access.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print a JSON array")
    shape.add_argument("--csv", action="store_true", help="print CSV with a header row")
    access.set_defaults(run=reports.access)
