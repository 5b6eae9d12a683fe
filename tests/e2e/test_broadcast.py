"""Broadcasting a directive to hundreds of people: at Slack's pace, durable across a crash, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.app import InProcessBot
from tests.support.bot_server import BotServer
from tests.support.cli import run_cli, undelivered
from tests.support.seed import add_grants
from tests.support.slack import SlackEmulator

RECIPIENTS = [f"U0BULK{n:04d}" for n in range(200)]


def issue_directive(server: InProcessBot, tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Mythos 5 may no longer be used by foreign nationals.")
    run_cli(
        server,
        "directive", "issue", "--title", "Frontier order", "--authority", "Commerce", "--reference", "EO-1",
        "--models", "mythos-5", "--population", "non-us-persons", "--action", "suspend",
        "--notice-file", str(notice),
    )  # fmt: skip


def delivered(emulator: SlackEmulator) -> dict[str, int]:
    return {user: len(emulator.messages(user)) for user in RECIPIENTS}


def prepare(emulator: SlackEmulator, database_url: str) -> None:
    for user in RECIPIENTS:
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@example.com")
    add_grants(database_url, RECIPIENTS, "mythos-5")


def test_broadcast_under_a_workspace_rate_limit_delivers_each_notice_once(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    prepare(emulator, database_url)
    server = start_server(ACCESSBOT_SLACK_POSTS_PER_MINUTE="9000")
    emulator.set_rate_limit("chat.postMessage", per_second=150, retry_after=1)
    issue_directive(server, tmp_path)
    emulator.wait_for(
        lambda: all(delivered(emulator).values()) and emulator.messages("C0MYTHOS5"),
        timeout=90,
        interval=0.05,
    )
    # How close to the limit's floor the sender finishes is a question for a benchmark, not the suite: a
    # wall-clock bound here fails whenever the machine is busy.
    assert set(delivered(emulator).values()) == {1}
    assert len(emulator.messages("C0MYTHOS5")) == 1
    limited = [c for c in emulator.calls("chat.postMessage") if c.status == 429]
    assert len(limited) < len(RECIPIENTS)  # a 429 pauses the sender instead of being retried at once


def test_sigkill_mid_broadcast_loses_nothing_and_sends_nothing_twice(
    start_process: Callable[..., BotServer], emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    prepare(emulator, database_url)
    settings = {
        "ACCESSBOT_OUTBOX_LEASE": "3",
        "ACCESSBOT_SLACK_TIMEOUT": "2",
        "ACCESSBOT_SLACK_POSTS_PER_MINUTE": "6000",
    }
    server = start_process(**settings)
    emulator.set_rate_limit("chat.postMessage", per_second=100, retry_after=1)
    emulator.set_latency(0.02)
    issue_directive(server, tmp_path)
    emulator.wait_for(lambda: sum(delivered(emulator).values()) >= 50, timeout=60)
    server.kill()
    partial = sum(delivered(emulator).values())
    assert partial < len(RECIPIENTS)
    start_process(**settings)
    emulator.wait_for(
        lambda: all(delivered(emulator).values()) and emulator.messages("C0MYTHOS5"), timeout=90
    )
    # Every row has its final outcome: nothing is left that could still be sent a second time.
    emulator.wait_for(lambda: undelivered(server) == 0, timeout=60)
    counts = delivered(emulator)
    assert [u for u, n in counts.items() if n != 1] == []
    assert len(emulator.messages("C0MYTHOS5")) == 1
    failed = run_cli(server, "outbox", "list", "--status", "failed", "--json").stdout
    assert failed.strip() == "[]"
