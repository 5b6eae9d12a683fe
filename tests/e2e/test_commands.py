"""`/access` subcommands and their refusals, over HTTP against a real server."""

from __future__ import annotations

import pytest

from tests.support.slack import SlackDriver, SlackEmulator

ALICE, BORIS, IAN, EVE, ADMIN = "U0ALICE01", "U0BORIS01", "U0IAN0001", "U0EVE0001", "U0ADMIN01"
STRANGER = "U0STRANGE1"
WHY = "Evaluating summarisation quality for the quarterly research report"


def test_help_lists_the_subcommands(slack: SlackDriver) -> None:
    reply = slack.command(ALICE, "help")
    assert reply.status == 200
    for usage in (
        "/access request",
        "/access status",
        "/access models",
        "/access cancel",
        "/access relinquish",
    ):
        assert usage in reply.body
    assert "/access revoke" not in reply.body  # only admins are shown the admin command
    assert "/access revoke" in slack.command(ADMIN, "help").body


def test_models_shows_each_model_and_its_status(slack: SlackDriver) -> None:
    reply = slack.command(ALICE, "models")
    assert "Mythos 5" in reply.body and "Lumen 3" in reply.body
    assert "Legacy 2" in reply.body and "suspended" in reply.body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate", "I don't know `/access frobnicate`"),
        ("stauts", "Did you mean `/access status`"),
        ("cancel", "Which request?"),
        ("cancel G7", "G7 is a grant ID"),
        ("cancel banana", "is not a request ID"),
        ("request", "Which model?"),
        ("request mythos-5 7x " + WHY, "'7x' is not a duration"),
        ("revoke", "Usage: `/access revoke G7 &lt;reason&gt;`"),
    ],
)
def test_bad_input_gets_a_specific_ephemeral_reply(slack: SlackDriver, text: str, expected: str) -> None:
    reply = slack.command(ALICE, text)
    assert reply.status == 200
    assert reply.json is not None and reply.json.get("response_type") == "ephemeral"
    assert expected in reply.body


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        (ALICE, "request nonexistent-9 " + WHY, "There is no model called 'nonexistent-9'"),
        (ALICE, "request legacy-2 " + WHY, "Legacy 2 is suspended"),
        (STRANGER, "request lumen-3 " + WHY, "not in the AccessBot directory"),
        (ALICE, "request mythos-5 90d " + WHY, "at most 30 days; you asked for 90 days"),
        (ALICE, "request mythos-5", "Please say why you need access"),
        (ALICE, "request mythos-5 too short", "too short"),
        (ALICE, "request mythos-5 " + "x" * 3001, "too long (3,001 characters)"),
    ],
)
def test_refused_requests_are_not_filed(
    slack: SlackDriver, emulator: SlackEmulator, user: str, text: str, expected: str
) -> None:
    reply = slack.command(user, text)
    assert expected in reply.body
    assert "Request not filed" in reply.body
    status = slack.command(user, "status").body
    assert "R1" not in status
    assert emulator.calls("chat.postMessage") == []  # nobody was asked to approve anything


def test_unknown_model_name_is_escaped_in_the_refusal(slack: SlackDriver) -> None:
    reply = slack.command(ALICE, "request <!channel> " + WHY)
    assert "<!channel>" not in reply.body
    assert "&lt;!channel&gt;" in reply.body


def test_duplicate_pending_request_is_refused(slack: SlackDriver) -> None:
    assert "R1 filed" in slack.command(ALICE, "request lumen-3 " + WHY).body
    again = slack.command(ALICE, "request lumen-3 " + WHY)
    assert "already have a pending request R1" in again.body


def test_embargoed_citizenship_is_denied_with_the_reason(slack: SlackDriver, emulator: SlackEmulator) -> None:
    reply = slack.command(IAN, "request lumen-3 " + WHY)
    assert "R1 for Lumen 3 was denied" in reply.body
    assert "embargo" in reply.body
    assert "IR" not in reply.body.replace("R1", "")  # never names the country
    emulator.wait_for(lambda: any("was denied" in t for t in emulator.dm_texts(IAN)))


def test_us_persons_only_model_denies_a_non_us_person(slack: SlackDriver) -> None:
    reply = slack.command(BORIS, "request fable-5 " + WHY)
    assert "was denied" in reply.body and "limited to US persons" in reply.body


def test_status_shows_pending_requests_and_who_they_wait_on(slack: SlackDriver) -> None:
    slack.command(ALICE, "request lumen-3 " + WHY)
    status = slack.command(ALICE, "status").body
    assert "R1" in status and "Lumen 3" in status and "U0MARIA01" in status
    assert "U0ALICE01" in slack.command("U0MARIA01", "status").body  # waiting on the manager


def test_cancel_withdraws_a_pending_request_and_updates_the_approver(
    slack: SlackDriver, emulator: SlackEmulator
) -> None:
    slack.command(ALICE, "request lumen-3 " + WHY)
    emulator.wait_for(lambda: emulator.messages("U0MARIA01"))
    assert "You have no request R1" in slack.command(EVE, "cancel R1").body  # not hers
    assert "Cancelled R1" in slack.command(ALICE, "cancel R1").body
    assert "already cancelled" in slack.command(ALICE, "cancel R1").body

    def updated() -> bool:
        message = emulator.messages("U0MARIA01")[-1]
        return "cancelled" in str(message["blocks"]) and "approval_approve" not in str(message["blocks"])

    emulator.wait_for(updated)
    # A stale Approve (an old copy of the message) changes nothing and says why.
    stale = slack.click(
        "U0MARIA01", "approval_approve", value="1:0", message=emulator.messages("U0MARIA01")[-1]
    )
    emulator.wait_for(lambda: emulator.responses(stale.response_url))
    assert "already cancelled" in emulator.responses(stale.response_url)[-1]["body"]["text"]
    assert "R1" not in slack.command(ALICE, "status").body.split("Pending requests")[1]


def test_slash_command_modal_opens_with_every_model(slack: SlackDriver, emulator: SlackEmulator) -> None:
    reply = slack.command(ALICE, "")
    assert reply.status == 200
    view = emulator.wait_for(lambda: emulator.views_opened(ALICE))[-1]
    options = view["blocks"][1]["element"]["options"]
    labels = [o["text"]["text"] for o in options]
    assert any(label.startswith("Mythos 5") for label in labels)
    assert any("suspended" in label for label in labels)
