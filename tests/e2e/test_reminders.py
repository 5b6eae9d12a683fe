"""Reminders and escalation over HTTP against the emulator, on the test clock: an unanswered approval
reminds its approver in the thread of the message that asked (shown in the DM too), then escalates to
the access admins, who can approve from their own message; the requester is told each time."""

from __future__ import annotations

from bot.clock import FileClock
from tests.support.app import InProcessBot
from tests.support.cli import listed
from tests.support.flows import WHY
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, ADMIN = "U0ALICE01", "U0MARIA01", "U0ADMIN01"


def test_an_unanswered_request_reminds_in_the_thread_then_escalates(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, clock: FileClock
) -> None:
    reply = slack.command(ALICE, f"request lumen-3 {WHY}")
    assert "R1" in reply.body
    ask = emulator.wait_for(
        lambda: [m for m in emulator.messages(MARIA) if "Access request R1" in m["text"]]
    )[0]

    clock.advance(days=1, minutes=1)
    reminder = emulator.wait_for(
        lambda: [m for m in emulator.messages(MARIA) if "Reminder 1 of 2" in m["text"]]
    )[0]
    # In the thread of the request it reminds of, and shown in the conversation so that she is notified.
    assert reminder["thread_ts"] == ask["ts"] and reminder.get("subtype") == "thread_broadcast"
    assert len([m for m in emulator.messages(MARIA) if "Access request R1" in m["text"]]) == 1  # no new copy
    emulator.wait_for(lambda: [m for m in emulator.messages(ALICE) if "I reminded" in str(m["blocks"])])

    clock.advance(days=2)
    escalated = emulator.wait_for(
        lambda: [m for m in emulator.messages(ADMIN) if "Access request R1" in m["text"]]
    )
    assert "Escalated: no answer from Maria Garcia" in str(escalated[0]["blocks"])
    emulator.wait_for(lambda: [m for m in emulator.messages(ALICE) if "was escalated" in str(m["blocks"])])

    slack.press_in_message(ADMIN, "approval_approve", escalated[0])
    emulator.wait_for(lambda: listed(server, "grants"))
    assert listed(server, "grants")[0]["slack_user_id"] == ALICE
