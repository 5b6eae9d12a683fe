"""The request modal, the global shortcut and the App Home tab."""

from __future__ import annotations

from bot.emulator import blocks_to_text
from bot.emulator.walk import iter_elements
from tests.support.app import InProcessBot
from tests.support.cli import listed
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, ADMIN = "U0ALICE01", "U0MARIA01", "U0ADMIN01"
WHY = "Evaluating summarisation quality for the quarterly research report"


def home_text(emulator: SlackEmulator, user: str) -> str:
    """What the Home tab shows a person: the words of its blocks. (Not their JSON: Slack generates block
    and action ids of random letters and digits, which can spell "R2".)"""
    home = emulator.home(user)
    return blocks_to_text(home["blocks"]) if home else ""


def home_buttons(emulator: SlackEmulator, user: str) -> set[str]:
    """The action ids of the buttons on the person's Home tab."""
    home = emulator.home(user)
    return {found.action_id or "" for found in iter_elements(home["blocks"] if home else None)}


def open_form(slack: SlackDriver, emulator: SlackEmulator, user: str) -> dict[str, object]:
    slack.command(user, "")
    return emulator.wait_for(lambda: [v for v in emulator.views_opened(user) if not v.get("closed")])[-1]


def test_modal_shows_errors_in_place_and_files_when_fixed(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    view = open_form(slack, emulator, ALICE)
    no_model = slack.submit_view(ALICE, view["id"], {"model": None, "justification": WHY})
    assert no_model.json == {"response_action": "errors", "errors": {"model": "Choose a model."}}
    too_long = slack.submit_view(
        ALICE, view["id"], {"model": "mythos-5", "duration": "90d", "justification": WHY}
    )
    assert too_long.json and "at most 30 days" in too_long.json["errors"]["duration"]
    suspended = slack.submit_view(ALICE, view["id"], {"model": "legacy-2", "justification": WHY})
    assert suspended.json and "suspended" in suspended.json["errors"]["model"]
    assert listed(server, "requests") == []

    done = slack.submit_view(ALICE, view["id"], {"model": "mythos-5", "duration": "7d", "justification": WHY})
    assert (done.status == 200 and done.body in ("", "{}")) or not (done.json or {}).get("errors")
    # On a busy machine the request is filed after the ack ("Working on it"): wait for it.
    requests = emulator.wait_for(lambda: listed(server, "requests"))
    assert [(r["model"], r["duration_seconds"]) for r in requests] == [("mythos-5", 7 * 86400)]
    emulator.wait_for(lambda: any("is filed" in t for t in emulator.dm_texts(ALICE)))
    emulator.wait_for(lambda: emulator.messages(MARIA))


def test_modal_default_duration_is_the_models(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    view = open_form(slack, emulator, ALICE)
    slack.submit_view(ALICE, view["id"], {"model": "lumen-3", "justification": WHY})
    # Filed in the ack, or just after it when the machine is busy.
    assert emulator.wait_for(lambda: listed(server, "requests"))[0]["duration_seconds"] == 30 * 86400


def test_global_shortcut_opens_the_request_form(slack: SlackDriver, emulator: SlackEmulator) -> None:
    reply = slack.shortcut(ALICE, "request_model_access")
    assert reply.status == 200
    view = emulator.wait_for(lambda: emulator.views_opened(ALICE))[-1]
    assert view["callback_id"] == "access_request_modal"


def test_home_tab_shows_grants_requests_approvals_and_catalog(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    slack.command(ALICE, f"request quorum-7 {WHY}")
    emulator.wait_for(lambda: emulator.messages(MARIA))
    slack.click_button_in_message(MARIA, MARIA, "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))

    slack.app_home_opened(ALICE)
    emulator.wait_for(lambda: emulator.home(ALICE))
    home = home_text(emulator, ALICE)
    assert "Your grants" in home and "Lumen 3" in home and "G1" in home
    assert "Your pending requests" in home and "Quorum 7" in home and "R2" in home
    assert "Models" in home and "Mythos 5" in home

    slack.app_home_opened("U0OWEN001")
    emulator.wait_for(lambda: emulator.home("U0OWEN001"))
    owen_home = home_text(emulator, "U0OWEN001")
    assert "Waiting on you" in owen_home and "R2" in owen_home
    assert "approval_approve" in home_buttons(emulator, "U0OWEN001")


def test_home_buttons_cancel_relinquish_and_approve(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(ALICE, f"request lumen-3 {WHY}")
    slack.command(ALICE, f"request quorum-7 {WHY}")
    emulator.wait_for(lambda: emulator.messages(MARIA))
    slack.app_home_opened(MARIA)
    emulator.wait_for(lambda: emulator.home(MARIA))
    slack.click_button_in_view(MARIA, "home", "approval_approve")
    emulator.wait_for(lambda: listed(server, "grants"))

    slack.app_home_opened(ALICE)
    emulator.wait_for(lambda: "R2" in home_text(emulator, ALICE))
    slack.click_button_in_view(ALICE, "home", "home_cancel_request")
    emulator.wait_for(
        lambda: next(r for r in listed(server, "requests") if r["id"] == 2)["status"] == "cancelled"
    )
    emulator.wait_for(lambda: "R2" not in home_text(emulator, ALICE))

    slack.click_button_in_view(ALICE, "home", "home_relinquish_grant")
    emulator.wait_for(lambda: listed(server, "grants")[0]["status"] == "revoked")
    assert listed(server, "grants")[0]["end_reason"] == "Relinquished by the holder."
    emulator.wait_for(lambda: "You hold no grants" in home_text(emulator, ALICE))


def test_a_decision_from_any_surface_refreshes_every_home_that_shows_the_request(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    for person in (ALICE, MARIA):
        slack.app_home_opened(person)
        emulator.wait_for(lambda person=person: emulator.home(person))
    slack.command(ALICE, f"request lumen-3 {WHY}")
    emulator.wait_for(lambda: "approval_approve" in home_buttons(emulator, MARIA))
    emulator.wait_for(lambda: "R1" in home_text(emulator, ALICE))
    stale_home = emulator.home(MARIA)
    assert stale_home is not None

    # Maria denies from her App Home: the Deny button opens the reason form, and she submits it.
    slack.click_button_in_view(MARIA, "home", "approval_deny")
    form = emulator.wait_for(lambda: [v for v in emulator.views_opened(MARIA) if not v.get("closed")])[-1]
    slack.submit_view(MARIA, form["id"], {"reason": "Not needed for this quarter"})
    emulator.wait_for(lambda: listed(server, "requests")[0]["status"] == "denied")

    # Both Home tabs stop offering anything for R1, without anyone reopening them.
    emulator.wait_for(lambda: "approval_approve" not in home_buttons(emulator, MARIA))
    emulator.wait_for(lambda: "home_cancel_request" not in home_buttons(emulator, ALICE))

    # A click on the stale copy of her Home says plainly what happened.
    approve = next(b for b in _buttons(stale_home, "approval_approve"))
    slack.click(MARIA, "approval_approve", approve["value"], view=stale_home)
    emulator.wait_for(lambda: any("R1 is already denied" in t for t in emulator.dm_texts(MARIA)))


def _buttons(view: dict[str, object], action_id: str) -> list[dict[str, str]]:
    from bot.emulator.walk import find_buttons

    return [{"value": b.value or ""} for b in find_buttons(view.get("blocks"), action_id)]  # type: ignore[arg-type]
