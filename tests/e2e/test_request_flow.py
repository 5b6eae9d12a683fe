"""The request flow end to end: slash command -> policy -> approval chain -> grant, over HTTP."""

from __future__ import annotations

import json

from tests.support.app import InProcessBot
from tests.support.cli import run_cli
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, OWEN, OLGA, CARLA = "U0ALICE01", "U0MARIA01", "U0OWEN001", "U0OLGA001", "U0CARLA01"
JUSTIFICATION = "Evaluating summarisation quality for the quarterly research report"


def test_request_runs_through_every_step_to_a_grant(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    reply = slack.command(ALICE, f"request mythos-5 7d {JUSTIFICATION}")
    assert reply.status == 200
    assert "R1 filed" in reply.body and "step 1 of 3" in reply.body

    # Step 1: the manager gets the request in a DM with Approve / Deny.
    emulator.wait_for(lambda: emulator.messages(MARIA))
    approval = emulator.messages(MARIA)[-1]
    assert "Access request R1" in approval["text"]
    assert "Evaluating summarisation quality" in json.dumps(approval["blocks"])
    slack.click_button_in_message(MARIA, MARIA, "approval_approve")

    # Step 2: both model owners are asked; one approval is enough.
    emulator.wait_for(lambda: emulator.messages(OWEN) and emulator.messages(OLGA))
    slack.click_button_in_message(OWEN, OWEN, "approval_approve")

    # Step 3: export compliance.
    emulator.wait_for(lambda: emulator.messages(CARLA))
    slack.click_button_in_message(CARLA, CARLA, "approval_approve")

    emulator.wait_for(lambda: any("is approved" in t for t in emulator.dm_texts(ALICE)))
    texts = emulator.dm_texts(ALICE)
    assert any("filed" in t for t in texts)
    assert any("Step 1 of 3" in t and "approved" in t for t in texts)

    grants = json.loads(run_cli(server, "grants", "list", "--json").stdout)
    assert [(g["slack_user_id"], g["model"], g["status"]) for g in grants] == [(ALICE, "mythos-5", "active")]
    requests = json.loads(run_cli(server, "requests", "list", "--json").stdout)
    assert requests[0]["status"] == "approved" and requests[0]["current_step"] is None

    # Every approver's copy was updated in place: buttons gone, decision shown.
    def olga_copy_updated() -> bool:
        blocks = json.dumps(emulator.messages(OLGA)[-1]["blocks"])
        return "approval_approve" not in blocks and "approved by" in blocks

    emulator.wait_for(olga_copy_updated)
    assert not emulator.violations
