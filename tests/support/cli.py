"""Running the `accessbot` CLI as a separate process against a test server's database."""

from __future__ import annotations

import subprocess
import sys

from tests.support.bot_server import BotServer


def run_cli(
    server: BotServer, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**server.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(server.log_path.parent),
    )
    if check and result.returncode != 0:
        raise AssertionError(f"accessbot {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def audit_events(server: BotServer) -> list[dict[str, object]]:
    import json

    output = run_cli(server, "audit", "export", "--format", "jsonl").stdout
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def listed(server: BotServer, noun: str) -> list[dict[str, object]]:
    import json

    return json.loads(run_cli(server, noun, "list", "--json").stdout)
