"""Multi-step Slack flows shared by end-to-end tests, driven the way people do it: commands and clicks."""

from __future__ import annotations

import json
import re

from tests.support.app import InProcessBot
from tests.support.cli import listed
from tests.support.slack import SlackDriver, SlackEmulator

APPROVERS = ("U0MARIA01", "U0OWEN001", "U0OLGA001", "U0CARLA01", "U0ADMIN01", "U0ALICE01")
WHY = "Evaluating summarisation quality for the quarterly research report"


def _open_approval(emulator: SlackEmulator, user: str, request_id: int) -> bool:
    messages = emulator.messages(user)
    return bool(messages) and f'"{request_id}:' in json.dumps(messages[-1].get("blocks"))


def grant_through_slack(
    slack: SlackDriver,
    emulator: SlackEmulator,
    server: InProcessBot,
    user: str,
    model: str,
    duration: str = "",
) -> int:
    """File a request and have each step's approver click Approve until the grant exists; its id."""
    reply = slack.command(user, f"request {model} {duration} {WHY}")
    found = re.search(r"R(\d+) filed", reply.body)
    assert found, reply.body
    request_id = int(found.group(1))

    def granted() -> list[dict[str, object]]:
        return [g for g in listed(server, "grants") if g["request_id"] == request_id]

    for _ in range(4):
        if granted():
            break
        approver = emulator.wait_for(
            lambda: (
                next((a for a in APPROVERS if a != user and _open_approval(emulator, a, request_id)), None)
                or granted()
            ),
            timeout=15,
        )
        if not isinstance(approver, str):
            break
        slack.click_button_in_message(approver, approver, "approval_approve", value_contains=f"{request_id}:")
        # Settled: every message the click changed is delivered, including the updates that take the
        # buttons off the other approvers' copies of this step; only then is the next approver looked for.
        server.settle()
    grant = emulator.wait_for(granted, timeout=15)[0]
    return int(grant["id"])  # type: ignore[call-overload]
