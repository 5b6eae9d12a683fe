"""Running the `accessbot` CLI as a separate process, as a person or a script would."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlmodel import col, select

from bot.notify import outbox
from bot.services.directives import list_directives
from bot.services.queries import audit_record, grant_record, request_record
from bot.store.db import Database
from bot.store.requests import list_grants, list_requests
from bot.store.tables import AuditEvent, OutboxMessage
from tests.support.bot_server import BotServer

Env = dict[str, str]


def run_cli(
    target: BotServer | Env, *args: str, check: bool = True, env: Env | None = None
) -> subprocess.CompletedProcess[str]:
    """`accessbot ARGS` with a test server's environment (or the given one)."""
    base = target.env if isinstance(target, BotServer) else target
    cwd = str(target.log_path.parent) if isinstance(target, BotServer) else base.get("PWD")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"accessbot {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def _database(target: BotServer | Env) -> Database:
    env = target.env if isinstance(target, BotServer) else target
    return Database(env["DATABASE_URL"], pool=False)


def audit_events(target: BotServer | Env) -> list[dict[str, object]]:
    """The audit trail as `accessbot audit export --format jsonl` prints it, read in this process (the
    same records, without starting the CLI; tests/e2e/test_cli.py proves the two agree)."""
    db = _database(target)
    try:
        with db.read() as session:
            events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
            return [json.loads(json.dumps(audit_record(e))) for e in events]
    finally:
        db.dispose()


def listed(target: BotServer | Env, noun: str) -> list[dict[str, object]]:
    """What `accessbot NOUN list --json` prints (requests, grants, directive, outbox), read in this
    process (tests/e2e/test_cli.py proves the two agree)."""
    db = _database(target)
    try:
        with db.read() as session:
            if noun == "requests":
                records = [request_record(r) for r in list_requests(session)]
            elif noun == "grants":
                records = [grant_record(g) for g in list_grants(session)]
            elif noun == "directive":
                records = list_directives(session)
            elif noun == "outbox":
                records = [outbox.describe(row) for row in outbox.recent(session, None, 200)]
            else:
                raise ValueError(f"no list of {noun!r}")
        return json.loads(json.dumps(records))
    finally:
        db.dispose()


def undelivered(target: BotServer | Env) -> int:
    """Outbox rows still waiting or being sent: 0 once every message has its final outcome."""
    db = _database(target)
    try:
        with db.read() as session:
            return len(
                session.exec(
                    select(OutboxMessage.id).where(col(OutboxMessage.status).in_(("pending", "sending")))
                ).all()
            )
    finally:
        db.dispose()


def listed_by_cli(target: BotServer | Env, noun: str) -> list[dict[str, object]]:
    """`accessbot NOUN list --json`, run as a separate process."""
    return json.loads(run_cli(target, noun, "list", "--json").stdout)
