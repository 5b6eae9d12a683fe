"""Delegation over HTTP against the emulator: `/access delegate`, the delegate asked "on behalf of" and
deciding, `/access delegate list`, App Home's End, and the delegate's message losing its buttons."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tests.support.app import InProcessBot
from tests.support.cli import listed
from tests.support.flows import WHY
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, PETE = "U0ALICE01", "U0MARIA01", "U0PETE001"


def shown(reply_or_message: object) -> str:
    return json.dumps(reply_or_message, ensure_ascii=False)


def message_at(emulator: SlackEmulator, user: str, ts: str) -> dict[str, object]:
    return next(m for m in emulator.messages(user) if m["ts"] == ts)


def test_a_delegate_decides_on_my_behalf_until_i_end_it(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    until = (date.today() + timedelta(days=10)).isoformat()
    made = slack.command(MARIA, f"delegate <@{PETE}|pete> until {until}")
    assert "Delegated your approvals (all) to <@U0PETE001>" in shown(made.json), made.body
    emulator.wait_for(
        lambda: [m for m in emulator.messages(PETE) if "delegated their approvals" in m["text"]]
    )
    for bad, expected in (
        (f"delegate <@{MARIA}|maria> until {until}", "cannot delegate to yourself"),
        (f"delegate <@{PETE}|pete> until yesterday", "'yesterday' is not an ISO 8601 time"),
        (
            f"delegate <@{PETE}|pete> until {until} export-compliance",
            "You do not hold the export-compliance role",
        ),
        ("delegate end", "Whose delegation?"),
    ):
        assert expected in shown(slack.command(MARIA, bad).json), bad
    assert f"to <@{PETE}> (your approvals: all)" in shown(slack.command(MARIA, "delegate list").json)

    slack.command(ALICE, f"request lumen-3 {WHY}")
    ask = emulator.wait_for(lambda: [m for m in emulator.messages(PETE) if "Access request R1" in m["text"]])[
        0
    ]
    assert "on behalf of <@U0MARIA01>" in shown(ask["blocks"])
    slack.app_home_opened(PETE)  # his App Home lists it too, saying for whom
    emulator.wait_for(lambda: "on behalf of <@U0MARIA01>" in shown(emulator.home(PETE)))
    slack.press_in_message(PETE, "approval_approve", ask)
    emulator.wait_for(lambda: listed(server, "grants"))

    # A second request; Maria ends the delegation from her App Home: Pete's copy loses its buttons.
    slack.command(ALICE, f"request quorum-7 {WHY}")
    slack.command("U0UMA0001", f"request lumen-3 {WHY}")
    second = emulator.wait_for(
        lambda: [m for m in emulator.messages(PETE) if "Access request R3" in m["text"]]
    )[0]
    slack.app_home_opened(MARIA)
    emulator.wait_for(lambda: "Delegations" in shown(emulator.home(MARIA)))
    slack.click_button_in_view(MARIA, "home", "delegation_end")
    emulator.wait_for(
        lambda: "ended before you decided" in shown(message_at(emulator, PETE, second["ts"])["blocks"])
    )
    assert "approval_approve" not in shown(message_at(emulator, PETE, second["ts"])["blocks"])
    emulator.wait_for(lambda: "None in effect" in shown(emulator.home(MARIA)))  # its Home refreshed
