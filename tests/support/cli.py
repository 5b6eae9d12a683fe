"""Running the `accessbot` CLI as a separate process, as a person or a script would."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections import OrderedDict

from sqlmodel import col, select

from bot.cli import main
from bot.cli.lists import grant_records
from bot.notify import outbox
from bot.present.records import LicenceRecord, audit_record, request_record
from bot.services.directives import list_directives
from bot.store import outbox as outbox_rows
from bot.store.db import Database
from bot.store.licences import list_licences
from bot.store.requests import list_grants, list_requests
from bot.store.tables import AuditEvent, OutboxMessage
from tests.support.app import InProcessBot
from tests.support.bot_server import BotServer
from tests.support.databases import materialise

Env = dict[str, str]


Target = BotServer | InProcessBot | Env


def run_cli(
    target: Target, *args: str, check: bool = True, env: Env | None = None
) -> subprocess.CompletedProcess[str]:
    """`accessbot ARGS` with a test bot's environment (or the given one), through `bot.cli.main` in this
    process: the same parser, settings, clock, output and exit code as the console script, without
    starting an interpreter. A running `accessbot serve` process gets a CLI process beside it, and
    tests/e2e/test_cli.py runs the real console process throughout (run_cli_process)."""
    if isinstance(target, BotServer):
        result = _run_cli_process(target, *args, env=env)
    else:
        base = target.env if isinstance(target, InProcessBot) else target
        result = run_cli_here({**base, **(env or {})}, *args)
    if check and result.returncode != 0:
        raise AssertionError(f"accessbot {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def run_cli_process(
    target: Target, *args: str, check: bool = True, env: Env | None = None
) -> subprocess.CompletedProcess[str]:
    """`accessbot ARGS` as a separate process, as a person or a script would run it."""
    result = _run_cli_process(target, *args, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"accessbot {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def run_cli_here(environ: Env, *args: str) -> subprocess.CompletedProcess[str]:
    """`accessbot ARGS` through `bot.cli.main` in this process, with `environ` instead of os.environ."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args), environ=environ)
        except SystemExit as stop:  # argparse's usage errors
            code = stop.code if isinstance(stop.code, int) else 2
    return subprocess.CompletedProcess(["accessbot", *args], code, out.getvalue(), err.getvalue())


def _run_cli_process(target: Target, *args: str, env: Env | None) -> subprocess.CompletedProcess[str]:
    base = target if isinstance(target, dict) else target.env
    cwd = str(target.log_path.parent) if isinstance(target, BotServer) else base.get("PWD")
    database_url = {**base, **(env or {})}.get("DATABASE_URL")
    if database_url:
        materialise(database_url)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


# The readers below are called in wait_for loops, many times a second: each database they read keeps one
# engine, so that its statements are compiled once instead of at every look. On PostgreSQL the engine
# keeps its connection too (a new one costs the server a process); test databases are dropped WITH
# (FORCE), which an idle connection does not hold up. The last few databases are kept; a test reads only
# its own.
_READERS: OrderedDict[str, Database] = OrderedDict()
_READERS_KEPT = 4


def _database(target: Target) -> Database:
    env = target if isinstance(target, dict) else target.env
    url = env["DATABASE_URL"]
    db = _READERS.pop(url, None) or Database(url, pool=not url.startswith("sqlite"))
    _READERS[url] = db
    while len(_READERS) > _READERS_KEPT:
        _READERS.popitem(last=False)[1].dispose()
    return db


def audit_events(target: Target) -> list[dict[str, object]]:
    """The audit trail as `accessbot audit export --format jsonl` prints it, read in this process (the
    same records, without starting the CLI; tests/e2e/test_cli.py proves the two agree)."""
    db = _database(target)
    with db.read() as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        return [json.loads(json.dumps(audit_record(e))) for e in events]


def listed(target: Target, noun: str) -> list[dict[str, object]]:
    """What `accessbot NOUN list --json` prints (requests, grants, directive, licence, outbox), read in this
    process (tests/e2e/test_cli.py proves the two agree)."""
    db = _database(target)
    with db.read() as session:
        if noun == "requests":
            records = [request_record(r) for r in list_requests(session)]
        elif noun == "grants":
            records = [r.as_json() for r in grant_records(session, list_grants(session))]
        elif noun == "directive":
            records = [d.as_json() for d in list_directives(session)]
        elif noun == "licence":
            records = [LicenceRecord.of(x).as_json() for x in list_licences(session)]
        elif noun == "outbox":
            records = [outbox.describe(row) for row in outbox_rows.recent(session, None, 200)]
        else:
            raise ValueError(f"no list of {noun!r}")
    return json.loads(json.dumps(records))


def undelivered(target: Target) -> int:
    """Outbox rows still waiting or being sent: 0 once every message has its final outcome."""
    db = _database(target)
    with db.read() as session:
        return len(
            session.exec(
                select(OutboxMessage.id).where(col(OutboxMessage.status).in_(("pending", "sending")))
            ).all()
        )


def listed_by_cli(target: Target, noun: str) -> list[dict[str, object]]:
    """`accessbot NOUN list --json`, run as a separate process."""
    return json.loads(run_cli_process(target, noun, "list", "--json").stdout)
