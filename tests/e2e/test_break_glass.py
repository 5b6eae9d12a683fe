"""Break-glass over HTTP against the emulator: `/access breakglass`, the announcement and the admins'
review messages, Revoke… with its reason form ending the grant, and a refusal for anyone without the role."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.clock import FileClock
from tests.support.app import InProcessBot
from tests.support.cli import listed, run_cli
from tests.support.slack import SlackDriver, SlackEmulator

OWEN, ALICE, ADMIN = "U0OWEN001", "U0ALICE01", "U0ADMIN01"
WHY = "Production incident INC-4411: the summariser is down and customers are waiting"


def test_break_glass_is_announced_reviewed_and_revoked(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    refused = slack.command(ALICE, f"breakglass mythos-5 {WHY}")
    assert "Only holders of model-owner" in json.dumps(refused.json), refused.body
    used = slack.command(OWEN, f"breakglass mythos-5 {WHY}")
    assert "Break-glass access to Mythos 5 until" in json.dumps(used.json), used.body
    (grant,) = listed(server, "grants")
    assert grant["slack_user_id"] == OWEN and grant["status"] == "active" and grant["request_id"] is None

    emulator.wait_for(
        lambda: [m for m in emulator.messages("C0AIMODELS") if "Break-glass access" in m["text"]]
    )
    review = emulator.wait_for(
        lambda: [m for m in emulator.messages(ADMIN) if "Break-glass access" in m["text"]]
    )[0]
    slack.press_in_message(ADMIN, "break_glass_revoke", review)
    form = emulator.wait_for(lambda: [v for v in emulator.views_opened(ADMIN) if not v.get("closed")])[-1]
    done = slack.submit_view(ADMIN, str(form["id"]), {"reason": "No incident on record."})
    assert done.status == 200 and (done.json is None or done.json.get("response_action") != "errors"), (
        done.body
    )
    emulator.wait_for(lambda: listed(server, "grants")[0]["status"] == "revoked")
    emulator.wait_for(lambda: [m for m in emulator.messages(OWEN) if "was revoked" in m["text"]])
    emulator.wait_for(
        lambda: (
            "Reviewed and revoked"
            in json.dumps(next(m for m in emulator.messages(ADMIN) if m["ts"] == review["ts"])["blocks"])
        )
    )


def test_break_glass_under_a_require_licence_directive_depends_on_the_licence_that_allowed_it(
    slack: SlackDriver, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """A require-licence directive covers everyone on Mythos 5; Owen's licence lets him past it, so his
    break-glass grant depends on that licence (listed both ways) as an approved request's would."""
    notice = tmp_path / "order.txt"
    notice.write_text("Mythos 5 needs an export licence from today.", encoding="utf-8")
    run_cli(
        server, "directive", "issue", "--title", "Licence required", "--authority", "BIS",
        "--reference", "EO-1", "--notice-file", str(notice), "--models", "mythos-5",
        "--population", "everyone", "--action", "require-licence",
    )  # fmt: skip
    start = clock().date()
    run_cli(
        server, "licence", "add", "--number", "EX-BG-1", "--authority", "BIS", "--kind", "export",
        "--holder", OWEN, "--models", "mythos-5", "--countries", "DE",
        "--valid-from", start.isoformat(), "--valid-until", (start + timedelta(days=90)).isoformat(),
    )  # fmt: skip
    used = slack.command(OWEN, f"breakglass mythos-5 {WHY}")
    assert "Break-glass access to Mythos 5 until" in json.dumps(used.json), used.body
    (grant,) = listed(server, "grants")
    (licence,) = listed(server, "licence")
    assert grant["status"] == "active" and grant["licences"] == [licence["id"]]
    assert licence["grants"] == [grant["id"]]
