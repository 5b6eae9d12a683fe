"""Approvals: who may decide, quorum, routing, deny reasons, double clicks and races."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES
from tests.support.cli import audit_events, listed, run_cli
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, OWEN, OLGA, CARLA = "U0ALICE01", "U0MARIA01", "U0OWEN001", "U0OLGA001", "U0CARLA01"
ADMIN, UMA, NICK, PETE, EVE = "U0ADMIN01", "U0UMA0001", "U0NICK001", "U0PETE001", "U0EVE0001"
WHY = "Evaluating summarisation quality for the quarterly research report"


def latest_blocks(emulator: SlackEmulator, user: str) -> str:
    return json.dumps(emulator.messages(user)[-1]["blocks"])


def wait_dm(emulator: SlackEmulator, user: str, count: int = 1) -> list[dict[str, object]]:
    return emulator.wait_for(lambda: len(emulator.messages(user)) >= count and emulator.messages(user))


def test_someone_else_clicking_approve_is_refused_and_audited(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    message = wait_dm(emulator, MARIA)[-1]
    # Eve replays Maria's button (a button value is user data).
    reply = slack.click(EVE, "approval_approve", value="1:0", message=message)
    answer = emulator.wait_for(lambda: emulator.responses(reply.response_url))[-1]["body"]
    assert answer["response_type"] == "ephemeral"
    assert "not an approver" in answer["text"]
    # The requester cannot approve their own request either.
    mine = slack.click(ALICE, "approval_approve", value="1:0", message=message)
    assert (
        "not an approver"
        in emulator.wait_for(lambda: emulator.responses(mine.response_url))[-1]["body"]["text"]
    )
    assert listed(server, "requests")[0]["status"] == "pending"
    refused = [e for e in audit_events(server) if e["action"] == "decision.refused"]
    assert {e["actor"] for e in refused} == {EVE, ALICE}


def test_forged_button_values_change_nothing(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    message = wait_dm(emulator, MARIA)[-1]
    for value in ("garbage", "1:7", "99:0", "-1:0", ""):
        reply = slack.click(MARIA, "approval_approve", value=value, message=message)
        assert reply.status == 200
    emulator.wait_for(lambda: len(emulator.responses()) == 5)
    assert listed(server, "requests")[0]["status"] == "pending"


def test_quorum_step_needs_two_distinct_approvers(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request quorum-7 {WHY}")
    wait_dm(emulator, OWEN)
    wait_dm(emulator, OLGA)
    slack.click_button_in_message(OWEN, OWEN, "approval_approve")
    # Owen's copy shows his approval; Olga's still has buttons and says 1 of 2.
    emulator.wait_for(lambda: "approval_approve" not in latest_blocks(emulator, OWEN))
    emulator.wait_for(lambda: "1 of 2" in latest_blocks(emulator, OLGA))
    assert "approval_approve" in latest_blocks(emulator, OLGA)
    # Owen clicking again changes nothing.
    again = slack.click(OWEN, "approval_approve", value="1:0", message=emulator.messages(OWEN)[-1])
    assert (
        "already approved"
        in emulator.wait_for(lambda: emulator.responses(again.response_url))[-1]["body"]["text"]
    )
    assert listed(server, "requests")[0]["status"] == "pending"
    slack.click_button_in_message(OLGA, OLGA, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))
    assert listed(server, "requests")[0]["status"] == "approved"


def test_one_person_never_approves_two_steps(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # Pete's manager Owen is also a model owner: he approves step 1, so step 2 goes to Olga only.
    slack.command(PETE, f"request mythos-5 {WHY}")
    wait_dm(emulator, OWEN)
    slack.click_button_in_message(OWEN, OWEN, "approval_approve")
    wait_dm(emulator, OLGA)
    assert len(emulator.messages(OWEN)) == 1  # not asked again
    forged = slack.click(OWEN, "approval_approve", value="1:1", message=emulator.messages(OWEN)[-1])
    text = emulator.wait_for(lambda: emulator.responses(forged.response_url))[-1]["body"]["text"]
    assert "cannot decide two steps" in text
    assert listed(server, "requests")[0]["current_step"] == 2


def test_double_click_and_retries_record_one_decision(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request mythos-5 {WHY}")
    message = wait_dm(emulator, MARIA)[-1]
    threads = [
        threading.Thread(
            target=slack.click, args=(MARIA, "approval_approve"), kwargs={"value": "1:0", "message": message}
        )
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_dm(emulator, OWEN)
    events = audit_events(server)
    assert len([e for e in events if e["action"] == "decision.recorded"]) == 1
    assert len([e for e in events if e["action"] == "step.started"]) == 2
    assert listed(server, "requests")[0]["current_step"] == 2


def test_two_approvers_clicking_at_once_advance_the_step_once(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request mythos-5 {WHY}")
    wait_dm(emulator, MARIA)
    slack.click_button_in_message(MARIA, MARIA, "approval_approve")
    owen_message = wait_dm(emulator, OWEN)[-1]
    olga_message = wait_dm(emulator, OLGA)[-1]
    barrier = threading.Barrier(2)

    def click(user: str, message: dict[str, object]) -> None:
        barrier.wait()
        slack.click(user, "approval_approve", value="1:1", message=message)

    threads = [
        threading.Thread(target=click, args=(OWEN, owen_message)),
        threading.Thread(target=click, args=(OLGA, olga_message)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_dm(emulator, CARLA)
    events = audit_events(server)
    step_two = [e for e in events if e["action"] == "decision.recorded" and e["after"]["step"] == 2]
    assert len(step_two) == 1
    assert len([e for e in events if e["action"] == "step.started"]) == 3
    assert len(emulator.messages(CARLA)) == 1


def test_deny_asks_for_a_reason_and_tells_the_requester(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    wait_dm(emulator, MARIA)
    slack.click_button_in_message(MARIA, MARIA, "approval_deny")
    modal = emulator.wait_for(lambda: emulator.views_opened(MARIA))[-1]
    empty = slack.submit_view(MARIA, modal["id"], {"reason": ""})
    assert empty.json and empty.json["response_action"] == "errors"
    assert listed(server, "requests")[0]["status"] == "pending"
    reason = "Use the sandbox model <!channel> first"
    done = slack.submit_view(MARIA, modal["id"], {"reason": reason})
    assert done.status == 200 and not (done.json or {}).get("errors")
    emulator.wait_for(lambda: any("was denied" in t for t in emulator.dm_texts(ALICE)))
    denial = next(m for m in emulator.messages(ALICE) if "was denied" in m["text"])
    assert "Use the sandbox model &lt;!channel&gt; first" in json.dumps(denial["blocks"])
    emulator.wait_for(lambda: "Denied by" in latest_blocks(emulator, MARIA))
    assert listed(server, "requests")[0]["status"] == "denied"


def test_deny_form_from_someone_else_shows_an_error(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    message = wait_dm(emulator, MARIA)[-1]
    slack.click(EVE, "approval_deny", value="1:0", message=message)
    modal = emulator.wait_for(lambda: emulator.views_opened(EVE))[-1]
    reply = slack.submit_view(EVE, modal["id"], {"reason": "I just don't like it"})
    assert reply.json and reply.json["response_action"] == "errors"
    assert "not an approver" in json.dumps(reply.json["errors"])
    assert listed(server, "requests")[0]["status"] == "pending"


def test_no_manager_on_file_routes_to_the_access_admins(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(NICK, f"request lumen-3 {WHY}")
    message = wait_dm(emulator, ADMIN)[-1]
    assert "No manager is on file" in json.dumps(message["blocks"])
    assert "access admin" in json.dumps(message["blocks"])
    slack.click_button_in_message(ADMIN, ADMIN, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))


def test_nobody_holding_the_role_routes_to_the_access_admins(
    slack: SlackDriver, emulator: SlackEmulator
) -> None:
    reply = slack.command(ALICE, f"request orphan-1 {WHY}")
    assert "R1 filed" in reply.body
    message = wait_dm(emulator, ADMIN)[-1]
    assert "Nobody holds the ghost-role role" in json.dumps(message["blocks"])


def test_unknown_us_person_status_adds_an_export_compliance_review(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # Lumen 3 is manager-only, but Uma's US-person status and citizenship are unknown.
    reply = slack.command(UMA, f"request lumen-3 {WHY}")
    assert "step 1 of 2" in reply.body
    wait_dm(emulator, MARIA)
    slack.click_button_in_message(MARIA, MARIA, "approval_approve")
    review = wait_dm(emulator, CARLA)[-1]
    assert "export compliance must confirm" in json.dumps(review["blocks"])
    assert listed(server, "requests")[0]["status"] == "pending"
    slack.click_button_in_message(CARLA, CARLA, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))


def test_us_persons_only_model_with_unknown_status_is_never_auto_approved(
    slack: SlackDriver, emulator: SlackEmulator
) -> None:
    reply = slack.command(UMA, f"request fable-5 {WHY}")
    assert "step 1 of 3" in reply.body
    wait_dm(emulator, MARIA)
    slack.click_button_in_message(MARIA, MARIA, "approval_approve")
    wait_dm(emulator, OWEN)
    slack.click_button_in_message(OWEN, OWEN, "approval_approve")
    review = wait_dm(emulator, CARLA)[-1]
    assert "US-person status is unknown" in json.dumps(review["blocks"])


def test_an_unreachable_approver_does_not_leave_the_request_waiting_on_nobody(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # The manager left. Slack would still accept a DM to her; users.info, asked before her approval
    # request goes out, says the account is deactivated.
    emulator.set_user(MARIA, deleted=True)
    slack.command(ALICE, f"request lumen-3 {WHY}")
    message = wait_dm(emulator, ADMIN)[-1]
    assert "deactivated" in json.dumps(message["blocks"])
    assert emulator.messages(MARIA) == []
    emulator.wait_for(lambda: any("now goes to the access admins" in t for t in emulator.dm_texts(ALICE)))
    slack.click_button_in_message(ADMIN, ADMIN, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))
    assert any(e["action"] == "step.rerouted" for e in audit_events(server))


def test_approvers_who_lose_their_role_are_replaced_by_the_admins(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    slack.command(ALICE, f"request quorum-7 {WHY}")  # two model owners must approve
    wait_dm(emulator, OWEN)
    slack.click_button_in_message(OWEN, OWEN, "approval_approve")
    # Olga is no longer a model owner; with her gone, only an admin can make up the quorum.
    directory = (
        (FIXTURES / "directory.csv")
        .read_text()
        .replace(
            "U0OLGA001,olga@example.com,Olga Berg,,Platform,US,US,yes,model-owner",
            "U0OLGA001,olga@example.com,Olga Berg,,Platform,US,US,yes,",
        )
    )
    changed = tmp_path / "directory.csv"
    changed.write_text(directory)
    run_cli(server, "directory", "import", str(changed))
    wait_dm(emulator, ADMIN)
    wait_dm(emulator, OLGA)  # her copy, asked at the start, may still be on its way under load
    # Her copy loses its buttons and says where the step went; a click kept from before is refused.
    taken = emulator.wait_for(
        lambda: [m for m in emulator.messages(OLGA) if "went to the access admins" in json.dumps(m)]
    )
    assert "approval_approve" not in json.dumps(taken[-1]["blocks"])
    stale = slack.click(OLGA, "approval_approve", value="1:0", message=emulator.messages(OLGA)[-1])
    answer = emulator.wait_for(lambda: emulator.responses(stale.response_url))[-1]["body"]
    assert "the step went to the access admins" in answer["text"]
    slack.click_button_in_message(ADMIN, ADMIN, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))


def test_an_approver_deactivated_after_being_asked_hands_the_step_to_the_admins(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    wait_dm(emulator, MARIA)  # asked while her account was active
    emulator.set_user(MARIA, deleted=True)
    assert slack.user_change(MARIA).status == 200  # Slack tells the bot
    message = wait_dm(emulator, ADMIN)[-1]
    assert "deactivated" in json.dumps(message["blocks"])
    emulator.wait_for(lambda: any("now goes to the access admins" in t for t in emulator.dm_texts(ALICE)))
    # Reactivation is recorded too, and nothing was recorded twice.
    emulator.set_user(MARIA, deleted=False)
    slack.user_change(MARIA)
    emulator.wait_for(lambda: any(e["action"] == "account.reactivated" for e in audit_events(server)))
    actions = [e["action"] for e in audit_events(server) if e["subject_id"] == MARIA]
    assert actions.count("account.deactivated") == 1
    slack.click_button_in_message(ADMIN, ADMIN, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))
