"""Signed payloads that are not the shape Slack promises, and text and ids no database should see: each
is refused in plain words (or quietly, where nobody can be answered), fast, and never with a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sqlmodel import select

from bot.store.db import Database
from bot.store.tables import AccessRequest
from tests.support.app import InProcessBot
from tests.support.cli import listed
from tests.support.flows import grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, ADMIN = "U0ALICE01", "U0MARIA01", "U0ADMIN01"
WHY = "Evaluating summarisation quality for the quarterly research report"


def command_without(slack: SlackDriver, emulator: SlackEmulator, *missing: str) -> Any:
    fields = {
        "command": "/access",
        "text": f"request lumen-3 {WHY}",
        "user_id": ALICE,
        "team_id": "T0ACCESS",
        "channel_id": "C0GENERAL",
        "trigger_id": emulator.new_trigger_id(ALICE),
        "response_url": emulator.new_response_url(ALICE, "C0GENERAL"),
    }
    for name in missing:
        fields.pop(name)
    return slack.raw(urlencode(fields).encode(), content_type="application/x-www-form-urlencoded")


def test_a_command_without_its_person_or_trigger_is_refused_in_plain_words(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    for missing in (("user_id",), ("trigger_id",), ("response_url",), ("user_id", "trigger_id")):
        reply = command_without(slack, emulator, *missing)
        assert reply.status == 200, missing
        assert "I could not read that command" in reply.body, missing
    assert listed(server, "requests") == []
    assert "Traceback" not in server.log()


def test_clicks_and_submissions_without_a_user_are_acknowledged_and_ignored(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    approval = emulator.wait_for(lambda: emulator.messages(MARIA))[-1]
    for user in (None, "missing", {"id": None}, {"id": 42}, "U0MARIA01"):
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "T0ACCESS"},
            "trigger_id": emulator.new_trigger_id(MARIA),
            "response_url": emulator.new_response_url(MARIA, "C0GENERAL"),
            "container": {"type": "message", "channel_id": approval["channel"], "message_ts": approval["ts"]},
            "actions": [{"type": "button", "action_id": "approval_approve", "block_id": "b", "value": "1:0"}],
        }
        if user != "missing":
            payload["user"] = user
        reply = slack.raw(
            urlencode({"payload": json.dumps(payload)}).encode(),
            content_type="application/x-www-form-urlencoded",
        )
        assert reply.status < 500, user
    server.settle()
    assert listed(server, "requests")[0]["status"] == "pending"  # nobody decided anything
    assert "Traceback" not in server.log()


def test_effective_times_that_are_not_times_are_refused_in_the_form(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ADMIN, "", command="/directive")
    form = emulator.wait_for(lambda: [v for v in emulator.views_opened(ADMIN) if not v.get("closed")])[-1]
    values = {
        "d_title": "Frontier models barred",
        "d_authority": "Commerce",
        "d_reference": "EO-1",
        "d_notice": "Mythos 5 may no longer be used by foreign nationals.",
        "d_models": ["mythos-5"],
        "d_population": "non-us-persons",
        "d_action": "suspend",
    }
    for picked in ("abc", 10**30, -5, 1.5, True, 253402300800, [1]):
        reply = slack.submit_view(ADMIN, form["id"], {**values, "d_effective": picked}, apply_response=False)
        assert reply.status == 200, picked
        assert reply.json and reply.json["response_action"] == "errors", picked
        assert "d_effective" in reply.json["errors"], picked
    assert listed(server, "directive") == []
    assert "Traceback" not in server.log()


def test_ids_in_other_scripts_or_out_of_range_change_nothing(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant = grant_through_slack(slack, emulator, server, ALICE, "lumen-3")
    assert grant == 1
    for typed in ("G\u0661", "G\uff11", "G" + "9" * 19, "G2147483648", "G0", "G+1"):
        reply = slack.command(ADMIN, f"revoke {typed} no longer needed")
        assert reply.status == 200 and "not a grant ID" in reply.body, typed
    assert listed(server, "grants")[0]["status"] == "active"
    for value in ("\u0661", "9" * 19, "1.0", "-1"):
        reply = slack.click(ALICE, "home_relinquish_grant", value, channel_id="C0GENERAL")
        assert reply.status == 200, value
    server.settle()
    assert listed(server, "grants")[0]["status"] == "active"
    assert "Traceback" not in server.log()


def test_text_with_nul_and_escape_bytes_is_stored_the_same_on_every_database(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, database_url: str
) -> None:
    reply = slack.command(
        ALICE, f"request lumen-3 Evaluating\x00 summaries\x1b[31m for the\r\nQ3 report {WHY}"
    )
    assert "R1 filed" in reply.body
    db = Database(database_url, pool=False)
    try:
        with db.read() as session:
            stored = session.exec(select(AccessRequest.justification)).one()
    finally:
        db.dispose()
    assert stored == f"Evaluating summaries[31m for the\nQ3 report {WHY}"
    approval = emulator.wait_for(lambda: emulator.messages(MARIA))[-1]
    assert "\x00" not in json.dumps(approval) and "\\u0000" not in json.dumps(approval)
