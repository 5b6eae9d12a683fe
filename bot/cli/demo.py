"""`accessbot demo`: the local demonstration (bot/demo), with no Slack account."""

from __future__ import annotations

import argparse

from bot.config import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Play a request through approval to a grant, and a directive, against the bundled emulator."""
    from bot.demo import run_demo

    return run_demo()
