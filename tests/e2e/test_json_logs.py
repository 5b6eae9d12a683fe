"""ACCESSBOT_LOG_FORMAT=json: a real `accessbot serve` and the CLI beside it write one JSON object per log
line (time, level, logger, message, and safe fields such as the job or the outbox row) through a
realistic day: a request with its justification, an approval, a failed DM, refused and malformed
requests, gateway checks by personal key and by e-mail, a directive issued from the command line. No
line holds a person's ID, name or e-mail, the justification, a key or a secret. A wrong value is refused
at start, naming the variable."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FileClock
from tests.support.bot_server import BOT_TOKEN, SIGNING_SECRET, BotServer, free_port, wait_until_answering
from tests.support.cli import run_cli
from tests.support.seed import add_grants, prepare_database
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, BORIS = "U0ALICE01", "U0MARIA01", "U0BORIS01"
GATEWAY_TOKEN = "gw-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
METRICS_TOKEN = "metrics-7a6b5c4d3e2f1a0b9c8d"
WHY = "Comparing hallucination rates on the Zanzibar tax corpus for Q3"
JSON_LOGS = {"ACCESSBOT_LOG_FORMAT": "json", "ACCESSBOT_GATEWAY_TOKEN": GATEWAY_TOKEN}
# Whatever must never reach a log: who (IDs, names, e-mails of the emulator's and directory's people),
# what they wrote, and every secret.
PERSONAL = (
    ALICE, MARIA, BORIS, "Alice", "Maria", "Boris", "alice@", "maria@", "boris@", "Zanzibar",
    BOT_TOKEN, SIGNING_SECRET, GATEWAY_TOKEN, METRICS_TOKEN, "abk_",
)  # fmt: skip


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each line of `text` as the JSON object it must be (an AssertionError names the first that is not)."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line[:300]!r}") from None
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message"} <= record.keys(), line
        records.append(record)
    return records


@pytest.fixture
def server(emulator: SlackEmulator, database_url: str, tmp_path: Path) -> Iterator[BotServer]:
    prepare_database(database_url)
    started = BotServer(
        database_url,
        emulator,
        tmp_path / "serve.log",
        ACCESSBOT_METRICS_TOKEN=METRICS_TOKEN,
        ACCESSBOT_METRICS_PORT=str(free_port()),
        **JSON_LOGS,
    ).start()
    yield started
    started.stop()


def test_every_line_is_json_and_none_holds_personal_data(
    server: BotServer, emulator: SlackEmulator, tmp_path: Path
) -> None:
    slack: SlackDriver = server.driver(emulator)
    emulator.fail_next("chat.postMessage", status=200, error="channel_not_found", channel=ALICE)
    reply = slack.command(ALICE, f"request lumen-3 {WHY}")
    request_id = re.search(r"R(\d+) filed", reply.body)
    assert request_id, reply.body
    emulator.wait_for(lambda: emulator.messages(MARIA), timeout=30)
    slack.click_button_in_message(MARIA, MARIA, "approval_approve", value_contains=f"{request_id.group(1)}:")
    emulator.wait_for(lambda: "approved" in json.dumps(emulator.messages(MARIA)[-1]).lower(), timeout=30)
    assert slack.command(BORIS, "status", sign=False).status == 401
    for retry in (None, 1):  # an event, then Slack's retry of it
        assert slack.app_home_opened(BORIS, event_id="Ev0JSONLOGS1", retry_num=retry).status == 200
    assert slack.raw(b'{"type": "event_callback", "user": "U0BORIS01", "event": [', sign=True).status == 400
    key = re.search(r"abk_[A-Za-z0-9_-]{43}", slack.command(ALICE, "key").body)
    assert key
    for question in (
        {"key": key.group(0), "model": "lumen-3"},
        {"user": "boris@example.com", "model": "lumen-3"},
    ):
        check = urllib.request.Request(
            f"{server.url}/v1/access/check",
            json.dumps(question).encode(),
            {"Authorization": f"Bearer {GATEWAY_TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(check, timeout=10) as answer:
            assert answer.status == 200
    add_grants(server.env["DATABASE_URL"], [BORIS], "lumen-3")
    notice = tmp_path / "notice.txt"
    notice.write_text("Lumen 3 is withdrawn for Boris Ivanov and everyone else.")
    issued = run_cli(
        server, "directive", "issue", "--title", "Withdrawal", "--authority", "Board", "--reference", "BR-2",
        "--models", "lumen-3", "--population", "everyone", "--action", "suspend",
        "--notice-file", str(notice), "--wait", "--wait-timeout", "30",
        env={"ACCESSBOT_CLOCK_FILE": str(FileClock.create(tmp_path / "clock.txt").path)},
    )  # fmt: skip
    metrics = f"http://127.0.0.1:{server.env['ACCESSBOT_METRICS_PORT']}/metrics"
    wait_until_answering(server.process, metrics, 10, "metrics port", server.log, METRICS_TOKEN)  # type: ignore[arg-type]
    server.stop()

    served = json_lines(server.log())
    cli = json_lines(issued.stderr)
    everything = server.log() + issued.stderr
    for mark in PERSONAL:
        assert mark not in everything, mark
    # What the operator needs is there, as fields.
    assert any(r["message"].startswith("refused a Slack request: unsigned") for r in served)
    assert any("failed permanently: channel_not_found" in r["message"] and "outbox_id" in r for r in served)
    assert any(r.get("job") == "seal audit events" for r in served)
    repeats = [r for r in served if r["message"].startswith("a repeated Slack request")]
    assert [r["surface"] for r in repeats] == ["event"]
    assert any(r["logger"] == "bot.metrics_http" and "serving metrics" in r["message"] for r in served)
    assert {r["level"] for r in served} >= {"INFO", "WARNING"}
    assert any(r["message"].startswith("running on the test clock") for r in cli), cli
    assert all(r["time"].endswith(("Z", "+00:00")) for r in served + cli)


def test_a_wrong_log_format_is_refused_at_start(
    emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    server = BotServer(database_url, emulator, tmp_path / "serve.log", ACCESSBOT_LOG_FORMAT="yaml")
    result = run_cli(server.env, "serve", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "accessbot: ACCESSBOT_LOG_FORMAT must be text or json, not 'yaml'"
