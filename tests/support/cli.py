"""Running the `accessbot` CLI as a separate process, as a person or a script would."""

from __future__ import annotations

import json
import subprocess
import sys

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


def audit_events(target: BotServer | Env) -> list[dict[str, object]]:
    output = run_cli(target, "audit", "export", "--format", "jsonl").stdout
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def listed(target: BotServer | Env, noun: str) -> list[dict[str, object]]:
    return json.loads(run_cli(target, noun, "list", "--json").stdout)
