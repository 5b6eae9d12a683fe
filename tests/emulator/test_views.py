"""Modals, Home tabs and trigger ids in the emulator."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.slack import SlackEmulator


def modal(title: str = "Request access", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "request",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "private_metadata": '{"channel": "C0GENERAL"}',
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
        **extra,
    }


def home(text: str) -> dict[str, Any]:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def test_views_open_returns_and_stores_the_view(client: WebClient, emu: SlackEmulator) -> None:
    trigger = emu.new_trigger_id("U0ALICE")
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V")
    assert view["hash"]
    assert view["state"] == {"values": {}}
    assert view["callback_id"] == "request"
    stored = emu.view(view["id"])
    assert stored is not None
    assert stored["user_id"] == "U0ALICE"
    assert stored["private_metadata"] == '{"channel": "C0GENERAL"}'
    assert [v["id"] for v in emu.views_opened("U0ALICE")] == [view["id"]]
    assert emu.views_opened("U0BOB") == []


def test_trigger_ids_are_single_use(client: WebClient, emu: SlackEmulator) -> None:
    trigger = emu.new_trigger_id("U0ALICE")
    client.views_open(trigger_id=trigger, view=modal())
    # views.open documents exchanged_trigger_id: "The trigger_id was already exchanged in a previous call."
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=modal())).response["error"] == (
        "exchanged_trigger_id"
    )
    assert error_of(lambda: client.views_open(trigger_id="123.456.nope", view=modal())).response["error"] == (
        "invalid_trigger_id"
    )


def test_trigger_ids_expire() -> None:
    with SlackEmulator(trigger_ttl=0.1) as emu:
        client = WebClient(base_url=emu.url, token=emu.bot_token)
        trigger = emu.new_trigger_id("U0ALICE")
        time.sleep(0.15)
        error = error_of(lambda: client.views_open(trigger_id=trigger, view=modal()))
        assert error.response["error"] == "expired_trigger_id"


def test_trigger_ids_expire_on_the_emulators_clock(client: WebClient, emu: SlackEmulator) -> None:
    fresh = emu.new_trigger_id("U0ALICE")
    stale = emu.new_trigger_id("U0ALICE")
    emu.advance(2.0)
    client.views_open(trigger_id=fresh, view=modal())  # 2 s old: still inside the 3 s
    emu.advance(1.5)
    assert error_of(lambda: client.views_open(trigger_id=stale, view=modal())).response["error"] == (
        "expired_trigger_id"
    )
    with pytest.raises(ValueError):
        emu.advance(-1)


def test_invalid_view_is_rejected_slack_style(client: WebClient, emu: SlackEmulator) -> None:
    trigger = emu.new_trigger_id("U0ALICE")
    error = error_of(
        lambda: client.views_open(trigger_id=trigger, view=modal(title="A title that is far too long"))
    )
    assert error.response["error"] == "invalid_arguments"
    messages = error.response["response_metadata"]["messages"]
    assert any("view.title" in m and m.startswith("[ERROR]") for m in messages)
    assert emu.violations and "views.open" in emu.violations[0]
    # The trigger was not spent on the rejected view.
    client.views_open(trigger_id=trigger, view=modal())


def test_views_update_by_id_and_external_id_with_hash(client: WebClient, emu: SlackEmulator) -> None:
    opened = client.views_open(trigger_id=emu.new_trigger_id("U0ALICE"), view=modal(external_id="req-1"))[
        "view"
    ]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal(title="Sent"))["view"]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert updated["title"]["text"] == "Sent"
    stale = error_of(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert stale.response["error"] == "hash_conflict"
    client.views_update(external_id="req-1", view=modal(title="Again"))
    stored = emu.view(opened["id"])
    assert stored is not None and stored["title"]["text"] == "Again"
    assert (
        error_of(lambda: client.views_update(view_id="V0NOPE", view=modal())).response["error"] == "not_found"
    )


def test_views_push_stacks_on_the_open_modal(client: WebClient, emu: SlackEmulator) -> None:
    first = client.views_open(trigger_id=emu.new_trigger_id("U0ALICE"), view=modal())["view"]
    pushed = client.views_push(trigger_id=emu.new_trigger_id("U0ALICE"), view=modal(title="Details"))["view"]
    assert pushed["previous_view_id"] == first["id"]
    assert pushed["root_view_id"] == first["id"]
    assert [v["id"] for v in emu.open_modals("U0ALICE")] == [first["id"], pushed["id"]]


def test_views_publish_home(client: WebClient, emu: SlackEmulator) -> None:
    assert emu.home("U0ALICE") is None
    first = client.views_publish(user_id="U0ALICE", view=home("No grants yet"))["view"]
    second = client.views_publish(user_id="U0ALICE", view=home("1 grant"), hash=first["hash"])["view"]
    assert second["id"] == first["id"], "a person has one Home view"
    latest = emu.home("U0ALICE")
    assert latest is not None and latest["blocks"][0]["text"]["text"] == "1 grant"
    conflict = error_of(lambda: client.views_publish(user_id="U0ALICE", view=home("x"), hash=first["hash"]))
    assert conflict.response["error"] == "hash_conflict"
    wrong_type = error_of(lambda: client.views_publish(user_id="U0ALICE", view=modal()))
    assert wrong_type.response["error"] == "invalid_arguments"
    assert error_of(lambda: client.views_publish(user_id="U0NOPE", view=home("x"))).response["error"] == (
        "user_not_found"
    )


def test_apply_view_response(client: WebClient, emu: SlackEmulator) -> None:
    view = client.views_open(trigger_id=emu.new_trigger_id("U0ALICE"), view=modal())["view"]
    emu.apply_view_response(view["id"], {"response_action": "errors", "errors": {"reason": "Too short"}})
    assert emu.open_modals("U0ALICE")
    emu.apply_view_response(view["id"], {"response_action": "update", "view": modal(title="Thanks")})
    stored = emu.view(view["id"])
    assert stored is not None and stored["title"]["text"] == "Thanks"
    problems = emu.apply_view_response(
        view["id"], {"response_action": "update", "view": modal(title="x" * 30)}
    )
    assert problems and emu.violations
    emu.apply_view_response(view["id"], None)
    assert emu.open_modals("U0ALICE") == []
