"""The command line: configuration errors, directory import, workflows check, lists and exports.

Bad input gets one line (or one line per problem) and exit code 2, never a traceback.

Most commands run through `bot.cli.main` in the test's process (run_cli: the same parser, settings,
output and exit code as the console script, without starting an interpreter for each). A few run as the
console process a person or a script starts (run_cli_process), for what only a process shows: the exit
code and stderr of a setting refused before anything runs, .env read from the working directory, an
unknown command's usage error from argparse, an old schema refused and then upgraded, and the demo."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.db import Database
from tests.support.bot_server import BOT_TOKEN, FIXTURES, REPO, SIGNING_SECRET
from tests.support.cli import Env, listed, run_cli, run_cli_process
from tests.support.databases import materialise
from tests.support.seed import DIRECTORY

HEADER = "slack_user_id,email,name,manager_email,department,work_country,citizenships,us_person,roles\n"


def assert_usage_error(result: object, *needles: str) -> None:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in result.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("variables", "command", "needle"),
    [
        ({}, ["serve"], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-your-bot-token"}, ["serve"], "SLACK_BOT_TOKEN still holds a placeholder"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, ["serve"], "SLACK_BOT_TOKEN must start with 'xoxb-'"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-real"}, ["serve"], "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-real"}, ["socket"], "SLACK_APP_TOKEN is not set"),
        ({"PORT": "eighty"}, ["serve"], "PORT must be a number"),
    ],
)
def test_missing_or_placeholder_secrets_stop_with_one_line(
    settings_env: Env, variables: dict[str, str], command: list[str], needle: str
) -> None:
    result = run_cli_process({**settings_env, **variables}, *command, check=False)
    assert_usage_error(result, needle)
    assert len(result.stderr.strip().splitlines()) == 1


def test_env_file_is_read_from_the_working_directory(settings_env: Env, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-your-token\n")
    result = run_cli_process(settings_env, "serve", check=False)
    assert_usage_error(result, "SLACK_BOT_TOKEN still holds a placeholder")


def test_commands_without_slack_need_no_secrets(ready: Env) -> None:
    assert run_cli(ready, "workflows", "check").returncode == 0
    assert run_cli(ready, "requests", "list", "--json").stdout.strip() == "[]"
    assert "up to date" in run_cli(ready, "db", "current").stdout


def test_output_into_a_pipe_whose_reader_has_gone_ends_quietly(ready: Env) -> None:
    # `accessbot requests list --json | head -0`: the reader is gone before anything is written.
    materialise(ready["DATABASE_URL"])
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "requests", "list", "--json"],
            env=ready,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (1, "")


def test_a_file_wrong_on_every_line_lists_its_first_hundred_problems(ready: Env, tmp_path: Path) -> None:
    wrong = tmp_path / "people.csv"
    header = DIRECTORY.read_text(encoding="utf-8").splitlines()[0]
    rows = [f"U0BAD{n:05d},not-an-email,Someone,,,,,," for n in range(150)]
    wrong.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = run_cli(ready, "directory", "import", str(wrong), check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 102 and all(line.startswith(f"{wrong}:") for line in lines[:101])
    assert lines[-2] == f"{wrong}: … and 50 more problem(s)"
    assert lines[-1] == "accessbot: nothing was imported (150 problem(s))"


def test_commands_refuse_an_old_schema_until_db_upgrade(env: Env) -> None:
    assert_usage_error(run_cli_process(env, "requests", "list", check=False), "run `accessbot db upgrade`")
    assert run_cli_process(env, "db", "upgrade").returncode == 0
    assert "up to date" in run_cli_process(env, "db", "current").stdout
    assert run_cli_process(env, "requests", "list", "--json").stdout.strip() == "[]"


def test_a_release_older_than_the_schema_says_so_instead_of_asking_for_an_upgrade(ready: Env) -> None:
    """A rolling upgrade: a newer release migrated the database, then an old replica (this one) starts."""
    db = Database(ready["DATABASE_URL"], pool=False)
    try:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        db.dispose()
    newer = "the database schema is at revision 9999, newer than this release of AccessBot knows"
    for command in (["grants", "list"], ["db", "upgrade"]):
        assert_usage_error(run_cli(ready, *command, check=False), newer)
    assert "9999: newer than this release of AccessBot" in run_cli(ready, "db", "current").stdout
    # The long-running processes stop at once with the same line, before they start anything: `serve`
    # would otherwise try to migrate (Alembic's traceback), and `worker` wait a minute for a server to
    # bring the schema up to date.
    slack = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    for command in (["serve"], ["worker"]):
        assert_usage_error(run_cli(ready, *command, env=slack, check=False), newer)


def test_a_port_already_taken_stops_serve_with_one_line(ready: Env) -> None:
    slack = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nobody there: auth.test fails, serve goes on
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        serve = ("serve", "--host", "127.0.0.1")
        by_variable = run_cli_process(ready, *serve, env={**slack, "PORT": port}, check=False)
        by_option = run_cli_process(ready, *serve, "--port", port, env=slack, check=False)
    assert_usage_error(by_variable, f"cannot listen on 127.0.0.1:{port}", "Change PORT")
    assert_usage_error(by_option, f"cannot listen on 127.0.0.1:{port}", "Change serve --port")


def test_bad_database_url(env: Env) -> None:
    assert_usage_error(
        run_cli({**env, "DATABASE_URL": "nonsense://x"}, "db", "upgrade", check=False), "DATABASE_URL"
    )


def test_directory_import_is_all_or_nothing_with_line_numbers(ready: Env, tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text(
        HEADER
        + "U0GOOD001,good@example.com,Good Person,,,US,US,yes,\n"
        + "U0BAD0001,not-an-email,Bad Email,,,US,US,yes,\n"
        + "U0BAD0002,bad2@example.com,Bad Country,,,UK,US,yes,\n"
        + "U0BAD0003,bad3@example.com,Bad Flag,,,US,US,maybe,\n"
    )
    result = run_cli(ready, "directory", "import", str(bad), check=False)
    assert_usage_error(
        result,
        f"{bad}:3: email 'not-an-email' is not an email address",
        f"{bad}:4: work_country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?",
        f"{bad}:5: us_person must be yes, no or empty",
        "nothing was imported",
    )
    assert_usage_error(
        run_cli(ready, "directory", "show", "U0GOOD001", check=False), "nobody in the directory"
    )


def test_directory_header_problems(ready: Env, tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("slack_user_id,email,nickname\nU0X0001,x@example.com,x\n")
    assert_usage_error(
        run_cli(ready, "directory", "import", str(bad), check=False),
        "missing column(s): name",
        "unknown column(s): nickname",
    )
    assert_usage_error(
        run_cli(ready, "directory", "import", str(tmp_path / "missing.csv"), check=False),
        "file not found",
    )


def test_directory_import_upserts_and_is_idempotent(ready: Env, tmp_path: Path) -> None:
    first = run_cli(ready, "directory", "import", str(DIRECTORY)).stdout
    assert "12 added, 0 updated, 0 unchanged" in first
    assert "0 added, 0 updated, 12 unchanged" in run_cli(ready, "directory", "import", str(DIRECTORY)).stdout
    # Columns in any order; one person changes.
    rows = list(csv.DictReader(DIRECTORY.open()))
    for row in rows:
        if row["slack_user_id"] == "U0BORIS01":
            row["us_person"] = "yes"
            row["roles"] = "model-owner;access-admin"
    shuffled = io.StringIO()
    columns = list(reversed(list(rows[0])))
    writer = csv.DictWriter(shuffled, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    changed = tmp_path / "changed.csv"
    changed.write_text(shuffled.getvalue())
    assert "0 added, 1 updated, 11 unchanged" in run_cli(ready, "directory", "import", str(changed)).stdout
    shown = json.loads(run_cli(ready, "directory", "show", "boris@example.com", "--json").stdout)
    assert shown["us_person"] == "yes" and shown["roles"] == ["access-admin", "model-owner"]
    text = run_cli(ready, "directory", "show", "U0UMA0001").stdout
    assert "us_person" in text and "unknown" in text


def test_workflows_check_names_file_and_key(settings_env: Env, tmp_path: Path) -> None:
    broken = tmp_path / "workflows"
    shutil.copytree(FIXTURES / "workflows", broken)
    models = broken / "models.yaml"
    models.write_text(
        models.read_text().replace("chain: frontier", "chain: frontierr", 1).replace("30d", "30x", 1)
    )
    result = run_cli(
        {**settings_env, "ACCESSBOT_WORKFLOWS_DIR": str(broken)}, "workflows", "check", check=False
    )
    assert_usage_error(
        result,
        f"{models}: models[0].chain: 'frontierr' is not defined in chains.yaml",
        f"{models}: models[0].max_duration: '30x' is not a duration",
    )
    serve = run_cli_process(
        {
            **settings_env,
            "ACCESSBOT_WORKFLOWS_DIR": str(broken),
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s3cret",
        },
        "serve",
        check=False,
    )
    assert_usage_error(serve, "workflows are not valid")


def test_shipped_workflows_are_valid(settings_env: Env) -> None:
    result = run_cli(
        {**settings_env, "ACCESSBOT_WORKFLOWS_DIR": str(REPO / "workflows")}, "workflows", "check"
    )
    assert "OK (3 models" in result.stdout


def test_lists_and_audit_export_have_stable_keys(ready: Env, tmp_path: Path) -> None:
    run_cli(ready, "directory", "import", str(DIRECTORY))
    assert listed(ready, "requests") == [] and listed(ready, "grants") == []
    jsonl = run_cli(ready, "audit", "export", "--format", "jsonl").stdout.splitlines()
    events = [json.loads(line) for line in jsonl]
    # The chain's start (migration 0011), then one event per person imported.
    assert [e["action"] for e in events] == ["audit.chain_started"] + ["person.added"] * 12
    assert set(events[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "subject_type",
        "subject_id",
        "before",
        "after",
        "detail",
        "seq",
        "prev_hash",
        "hash",
    }
    out = tmp_path / "audit.csv"
    assert (
        "wrote 13 audit events"
        in run_cli(ready, "audit", "export", "--format", "csv", "--output", str(out)).stdout
    )
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 13 and rows[1]["action"] == "person.added"
    assert json.loads(rows[1]["after"])["email"].endswith("@example.com")
    for where, needle in (("", "'' names no file"), (str(tmp_path), "is a directory, not a file"),
                          (str(tmp_path / "missing" / "a.csv"), "cannot be written")):  # fmt: skip
        refused = run_cli(ready, "audit", "export", "--output", where, check=False)
        assert refused.returncode == 2 and needle in refused.stderr and refused.stderr.count("\n") == 1


def test_unknown_command_is_one_line(settings_env: Env) -> None:
    assert_usage_error(run_cli_process(settings_env, "frobnicate", check=False), "invalid choice")


def test_demo_plays_the_whole_flow(settings_env: Env) -> None:
    result = run_cli_process(settings_env, "demo")
    out = result.stdout
    assert "R1 filed" in out
    assert "Maria gets a DM from AccessBot" in out and "[Approve] [Deny…]" in out
    assert "access granted" in out and "you now have access to Mythos 5" in out
    assert "R2 for Lumen 3 was denied" in out and "under an embargo" in out
    assert "1 grant(s) suspended" in out and "is *suspended*" in out  # the directive, previewed then issued
    assert "names nobody" in out and "Boris" not in out.split("names nobody:")[1].split("└")[0]
    assert "2 sent of 2, 0 failed" in out
    assert "restricts Mythos 5 for you" in out and "is back, until" in out
    # The licence story: Eve (no licence) is suspended by the require-licence directive, Boris is not
    # until his licence is revoked.
    assert "recorded L1" in out and "Your access to *Mythos 5* (G3) is *suspended*" in out
    assert "requires an export licence for Mythos 5" in out.split("13. ")[1]
    # The lifecycle: Alice is warned before her grant ends, extends it, and a waiting request is reminded.
    lifecycle = out.split("14. ")[1]
    assert "[Extend]" in lifecycle and "now runs until" in lifecycle
    assert "Reminder 1 of 2" in lifecycle and "I reminded @Maria" in lifecycle
    assert "Traceback" not in result.stderr
