"""`accessbot worker`: the outbox and the scheduler without serving Slack, e.g. beside several servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.bot_server import BOT_TOKEN, FIXTURES, REPO
from tests.support.cli import run_cli
from tests.support.seed import add_grants, prepare_database
from tests.support.slack import SlackEmulator

HOLDERS = ["U0BULK0001", "U0BULK0002", "U0BULK0003"]


def test_worker_delivers_a_directive_issued_from_the_command_line(
    emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    prepare_database(database_url)
    for user in HOLDERS:
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@example.com")
    add_grants(database_url, HOLDERS, "lumen-3")
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ACCESSBOT_", "TEST_DATABASE"))
        },
        "DATABASE_URL": database_url,
        "SLACK_API_URL": emulator.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "ACCESSBOT_WORKFLOWS_DIR": str(FIXTURES / "workflows"),
        "ACCESSBOT_TEMPLATES_DIR": str(REPO / "templates"),
        "ACCESSBOT_SCHEDULER_INTERVAL": "0.25",
        "PWD": str(tmp_path),
    }
    # The worker needs no signing secret: it never receives requests from Slack.
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        notice = tmp_path / "notice.txt"
        notice.write_text("Lumen 3 is withdrawn for everyone.")
        run_cli(
            env,
            "directive", "issue", "--title", "Withdrawal", "--authority", "Board", "--reference", "BR-2",
            "--models", "lumen-3", "--population", "everyone", "--action", "suspend",
            "--notice-file", str(notice), "--wait", "--wait-timeout", "30",
        )  # fmt: skip
        for user in HOLDERS:
            assert len(emulator.messages(user)) == 1
        assert len(emulator.messages("C0AIMODELS")) == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        _, errors = worker.communicate(timeout=20)
    assert worker.returncode == 0, errors
    assert "Traceback" not in errors


def test_socket_mode_reports_a_refused_connection_in_one_line(
    emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    prepare_database(database_url)
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ACCESSBOT_", "TEST_DATABASE"))
        },
        "DATABASE_URL": database_url,
        "SLACK_API_URL": emulator.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-not-accepted-here",
        "ACCESSBOT_WORKFLOWS_DIR": str(FIXTURES / "workflows"),
        "ACCESSBOT_TEMPLATES_DIR": str(REPO / "templates"),
        "PWD": str(tmp_path),
    }
    result = run_cli(env, "socket", check=False)
    # The emulator does not offer Socket Mode, as a workspace without it would not: the app gets as far
    # as asking for a connection and says so plainly.
    assert result.returncode == 1
    assert "Slack refused the Socket Mode connection" in result.stderr
    assert "Traceback" not in result.stderr
    assert [c.method for c in emulator.calls() if c.method.startswith("apps.")] == ["apps.connections.open"]
