"""The setting of the broadcast benchmarks: a `serve` on the Slack emulator whose directory lists N people
holding Mythos 5, and the directive that tells every one of them (and the model's channel) at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.bot_server import BOT_TOKEN, BotServer
from tests.support.cli import run_cli
from tests.support.seed import holders_in_slack
from tests.support.slack import SlackEmulator

MODEL = "mythos-5"
MODEL_CHANNEL = "C0MYTHOS5"


@contextmanager
def holders_served(
    url: str, folder: Path, holders: int, log_name: str, **env: str
) -> Iterator[tuple[BotServer, SlackEmulator, list[str]]]:
    """(the running server, the emulator, the holders' Slack IDs) for `holders` people with a grant of
    Mythos 5 in the database at `url`; the server's log is `folder / log_name`, `env` adds settings."""
    recipients = [f"U0BENCH{n:05d}" for n in range(holders)]
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        holders_in_slack(emulator, url, recipients, MODEL)
        server = BotServer(url, emulator, folder / log_name, **env).start()
        try:
            yield server, emulator, recipients
        finally:
            server.stop()


def issue_order(server: BotServer, folder: Path, *options: str) -> None:
    """Issue, with the CLI beside `server`, a directive suspending Mythos 5 for non-US persons (every
    holder of holders_served); `options` are more of the CLI's (e.g. --wait)."""
    notice = folder / "notice.txt"
    notice.write_text("Mythos 5 may no longer be used by foreign nationals.")
    run_cli(
        server,
        "directive", "issue", "--title", "Frontier order", "--authority", "Commerce",
        "--reference", "EO-1", "--models", MODEL, "--population", "non-us-persons",
        "--action", "suspend", "--notice-file", str(notice), *options,
    )  # fmt: skip
