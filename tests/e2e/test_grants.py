"""Grants end: on time, by an admin's revocation, or given up by the holder."""

from __future__ import annotations

from tests.support.app import InProcessBot
from tests.support.cli import audit_events, listed
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, ADMIN, EVE = "U0ALICE01", "U0MARIA01", "U0ADMIN01", "U0EVE0001"
WHY = "Evaluating summarisation quality for the quarterly research report"


def grant_for(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, model: str, user: str = ALICE
) -> None:
    slack.command(user, f"request {model} {WHY}")
    emulator.wait_for(lambda: emulator.messages(MARIA))
    slack.click_button_in_message(MARIA, MARIA, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))


def test_grant_expires_on_time_and_the_holder_is_told(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_for(slack, emulator, server, "blink-1")  # granted for 3 seconds
    server.clock.advance(seconds=4)
    server.run_jobs()
    assert listed(server, "grants")[0]["status"] == "expired"
    grant = listed(server, "grants")[0]
    # It ended on time: not before its end, and within a few scheduler runs after it.
    assert grant["ended_at"] >= grant["expires_at"]
    emulator.wait_for(lambda: any("has expired" in t for t in emulator.dm_texts(ALICE)))
    assert any(e["action"] == "grant.expired" and e["actor"] == "system" for e in audit_events(server))
    # Expired: a new request is allowed again.
    assert "R2 filed" in slack.command(ALICE, f"request blink-1 {WHY}").body


def test_admin_revokes_a_grant_with_a_reason(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_for(slack, emulator, server, "lumen-3")
    refused = slack.command(EVE, "revoke G1 no reason at all")
    assert "Only people with the access-admin role" in refused.body
    assert listed(server, "grants")[0]["status"] == "active"
    assert "Say why" in slack.command(ADMIN, "revoke G1").body
    done = slack.command(ADMIN, "revoke G1 Left the <!channel> project")
    # The admin is told whose grant it was, as a mention Slack shows by name.
    assert f"held by <@{ALICE}>" in done.body
    assert "Revoked G1" in done.body
    grant = listed(server, "grants")[0]
    assert (grant["status"], grant["ended_by"]) == ("revoked", ADMIN)
    emulator.wait_for(lambda: any("was revoked" in t for t in emulator.dm_texts(ALICE)))
    revoked = next(m for m in emulator.messages(ALICE) if "was revoked" in m["text"])
    assert "&lt;!channel&gt;" in str(revoked["blocks"])
    assert "already revoked" in slack.command(ADMIN, "revoke G1 again").body
    actions = [(e["action"], e["actor"]) for e in audit_events(server)]
    assert ("grant.revoke_refused", EVE) in actions and ("grant.revoked", ADMIN) in actions


def test_holder_relinquishes_their_own_grant_only(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_for(slack, emulator, server, "lumen-3")
    assert "You hold no grant G1" in slack.command(EVE, "relinquish G1").body
    assert "You gave up G1" in slack.command(ALICE, "relinquish G1").body
    assert listed(server, "grants")[0]["status"] == "revoked"


def test_admins_look_up_someones_grants_to_revoke_them(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_for(slack, emulator, server, "lumen-3")
    shown = slack.command(ADMIN, f"grants <@{ALICE}|alice>").body
    assert "Model access of" in shown and "G1" in shown and "Lumen 3" in shown
    refused = slack.command(EVE, f"grants <@{ALICE}|alice>").body
    assert "Only people with the access-admin role" in refused and "G1" not in refused
    assert "Whose?" in slack.command(ADMIN, "grants").body
    assert ("grants.view_refused", EVE) in [(e["action"], e["actor"]) for e in audit_events(server)]
