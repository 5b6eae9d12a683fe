"""Runs `accessbot serve` as a real process, the way production does, pointed at the Slack emulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.support.databases import materialise
from tests.support.slack import SlackDriver, SlackEmulator

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(
    process: subprocess.Popen[bytes],
    url: str,
    timeout: float,
    name: str,
    log: Callable[[], str],
    token: str | None = None,
) -> None:
    """Poll `url` (with `token` as a Bearer token, if given) until it answers 200. Raises AssertionError
    with the end of `log()` if `process` exits first or `timeout` seconds pass."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{log()[-5000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or not answering yet
            pass
        time.sleep(0.1)
    raise AssertionError(f"{name} did not answer {url} within {timeout:g} s:\n{log()[-5000:]}")


class BotServer:
    def __init__(self, database_url: str, emulator: SlackEmulator, log_path: Path, **env: str):
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SLACK_API_URL": emulator.url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "PORT": str(self.port),
            "ACCESSBOT_WORKFLOWS_DIR": str(FIXTURES / "workflows"),
            "ACCESSBOT_TEMPLATES_DIR": str(REPO / "templates"),
            "ACCESSBOT_SCHEDULER_INTERVAL": "0.25",
            "ACCESSBOT_LOG_LEVEL": "INFO",
            **env,
        }
        self.env.pop("TEST_DATABASE_URL", None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    command = ("serve", "--host", "127.0.0.1")

    def start(self, timeout: float = 30.0) -> BotServer:
        return self.launch().wait_ready(timeout)

    def launch(self) -> BotServer:
        """Start the process without waiting for it (several start at once: `start_all`)."""
        materialise(self.env["DATABASE_URL"])
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", *self.command],
                env=self.env,
                cwd=str(self.log_path.parent),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout: float = 30.0) -> BotServer:
        """Wait until the launched process answers `/healthz`."""
        assert self.process is not None, "launch() first"
        wait_until_answering(self.process, f"{self.url}/healthz", timeout, "accessbot serve", self.log)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def driver(self, emulator: SlackEmulator) -> SlackDriver:
        return SlackDriver(self.events_url, SIGNING_SECRET, emulator)


class BotWorker(BotServer):
    """`accessbot worker`: the outbox, webhook sender and scheduler, without HTTP (no port answers)."""

    command = ("worker",)

    def wait_ready(self, timeout: float = 30.0) -> BotServer:
        """Wait until the worker says it is delivering."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while "delivering the outbox" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"accessbot worker did not start:\n{self.log()[-5000:]}")
            time.sleep(0.1)
        return self


def start_all(processes: list[BotServer], timeout: float = 60.0) -> list[BotServer]:
    """Launch every process at once, then wait until each is ready (they start side by side)."""
    for process in processes:
        process.launch()
    for process in processes:
        process.wait_ready(timeout)
    return processes
