"""Expiry warnings and Extend over HTTP against the emulator, on the test clock: the holder is warned by
DM before the grant ends, clicks Extend, fills the form, the approver approves, and the same grant runs
on; someone else's grant and a grant that cannot be extended are refused with the reason."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.clock import FileClock
from tests.support.app import InProcessBot
from tests.support.cli import listed
from tests.support.flows import WHY, grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

HOLDER, OTHER, MARIA = "U0ALICE01", "U0UMA0001", "U0MARIA01"


def grant_row(server: InProcessBot, grant_id: int) -> dict[str, object]:
    return next(g for g in listed(server, "grants") if g["id"] == grant_id)


def text_of(message: dict[str, object]) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_a_holder_is_warned_extends_and_keeps_the_same_grant(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, clock: FileClock
) -> None:
    grant_id = grant_through_slack(slack, emulator, server, HOLDER, "lumen-3", "7d")
    ends = datetime.fromisoformat(str(grant_row(server, grant_id)["expires_at"]))
    clock.set(ends - timedelta(hours=20))  # within a day of its end: the 1-day warning is due

    warning = emulator.wait_for(
        lambda: [
            m for m in emulator.messages(HOLDER) if "ends in" in m["text"] and f"G{grant_id}" in m["text"]
        ]
    )[-1]
    assert "Lumen 3" in warning["text"] and "Extend" in text_of(warning)

    # Someone else pressing the same button (a forwarded or forged click) is refused, and no form opens.
    opened = len(emulator.views_opened(OTHER))
    forged = slack.press_in_message(OTHER, "grant_extend", warning)
    answer = emulator.wait_for(lambda: emulator.responses(forged.response_url))[-1]["body"]
    assert "You hold no grant" in answer["text"] and len(emulator.views_opened(OTHER)) == opened

    slack.press_in_message(HOLDER, "grant_extend", warning)
    form = emulator.wait_for(lambda: [v for v in emulator.views_opened(HOLDER) if not v.get("closed")])[-1]
    assert f"Extend G{grant_id}" in text_of(form)
    done = slack.submit_view(HOLDER, str(form["id"]), {"extend_duration": "7d", "extend_reason": WHY})
    assert done.status == 200 and (done.json is None or done.json.get("response_action") != "errors"), (
        done.body
    )

    # The manager is asked about an extension, not a new grant, and approves.
    ask = emulator.wait_for(
        lambda: [
            m for m in emulator.messages(MARIA) if "Extension request" in m["text"] and "Lumen 3" in m["text"]
        ]
    )[-1]
    assert f"extend their grant G{grant_id}" in text_of(ask)
    slack.press_in_message(MARIA, "approval_approve", ask)
    emulator.wait_for(lambda: datetime.fromisoformat(str(grant_row(server, grant_id)["expires_at"])) > ends)
    row = grant_row(server, grant_id)
    assert datetime.fromisoformat(str(row["expires_at"])) == ends + timedelta(days=7)
    assert row["status"] == "active" and len(listed(server, "grants")) == 1  # the same grant, no new one
    told = emulator.wait_for(lambda: [m for m in emulator.messages(HOLDER) if "now runs until" in text_of(m)])
    assert told


def test_app_home_offers_extend_while_it_can_be_asked_for(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_id = grant_through_slack(slack, emulator, server, HOLDER, "lumen-3", "7d")
    slack.app_home_opened(HOLDER)
    emulator.wait_for(lambda: f"G{grant_id}" in json.dumps(emulator.home(HOLDER)))
    slack.click_button_in_view(HOLDER, "home", "grant_extend")
    form = emulator.wait_for(lambda: [v for v in emulator.views_opened(HOLDER) if not v.get("closed")])[-1]
    done = slack.submit_view(HOLDER, str(form["id"]), {"extend_duration": "1d", "extend_reason": WHY})
    assert done.status == 200 and (done.json is None or done.json.get("response_action") != "errors"), (
        done.body
    )
    # While the extension waits, the Home tab shows the request and no longer offers Extend.
    emulator.wait_for(lambda: "Extend" not in json.dumps(emulator.home(HOLDER), ensure_ascii=False))
    assert "R2" in json.dumps(emulator.home(HOLDER))
