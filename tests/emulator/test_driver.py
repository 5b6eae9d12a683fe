"""SlackDriver against a tiny local app that checks signatures the way Bolt does and echoes what it got."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from tests.support.slack import Reply, SlackDriver, SlackEmulator

SECRET = "test-signing-secret"


@dataclass
class EchoApp:
    """Records every request; answers 401 on a bad signature, else ``ack`` (or an echo of the request)."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    ack: dict[str, Any] | None = None


@pytest.fixture
def app() -> Iterator[EchoApp]:
    verifier = SignatureVerifier(SECRET)
    state = EchoApp(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            valid = verifier.is_valid(
                body=raw,
                timestamp=self.headers.get("X-Slack-Request-Timestamp"),
                signature=self.headers.get("X-Slack-Signature"),
            )
            content_type = self.headers.get("Content-Type", "")
            text = raw.decode()
            form = dict(parse_qsl(text)) if "form-urlencoded" in content_type else {}
            parsed = (
                json.loads(form["payload"]) if "payload" in form else json.loads(text) if not form else None
            )
            record = {
                "content_type": content_type,
                "form": form,
                "payload": parsed,
                "retry_num": self.headers.get("X-Slack-Retry-Num"),
                "retry_reason": self.headers.get("X-Slack-Retry-Reason"),
            }
            state.received.append(record)
            status = 200 if valid else 401
            body = json.dumps(state.ack if valid and state.ack is not None else {"echo": record}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def driver(app: EchoApp, emu: SlackEmulator) -> SlackDriver:
    return SlackDriver(app.url, SECRET, emu)


def echoed(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    assert reply.json is not None
    return reply.json["echo"]


APPROVAL_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Alice asks for gpt-5"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Approve"},
                "action_id": "approve",
                "value": "r1",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Deny"},
                "action_id": "deny",
                "value": "r1",
            },
        ],
    },
]


def test_command_is_signed_and_shaped_like_slack(
    driver: SlackDriver, app: EchoApp, emu: SlackEmulator
) -> None:
    reply = driver.command("U0ALICE", "request gpt-5")
    form = echoed(reply)["form"]
    assert echoed(reply)["content_type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/access"
    assert form["text"] == "request gpt-5"
    assert form["user_id"] == "U0ALICE"
    assert form["user_name"] == "alice"
    assert form["channel_id"] == "C0GENERAL"
    assert form["team_id"] == "T0ACCESS"
    assert form["api_app_id"] == emu.app_id
    assert form["response_url"] == reply.response_url
    assert form["trigger_id"] == reply.trigger_id
    assert reply.elapsed > 0
    # The trigger and response URL are live in the emulator.
    client = WebClient(base_url=emu.url, token=emu.bot_token)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    client.views_open(trigger_id=reply.trigger_id, view=view)
    assert emu.views_opened("U0ALICE")


def test_unsigned_stale_and_forged_requests_are_refused(driver: SlackDriver) -> None:
    assert driver.command("U0ALICE", "x", sign=False).status == 401
    assert driver.command("U0ALICE", "x", timestamp=int(time.time()) - 600).status == 401
    forged = driver.raw(
        b'{"type": "event_callback"}',
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
        sign=False,
    )
    assert forged.status == 401
    assert driver.raw(b'{"type": "event_callback"}').status == 200


def test_click_button_in_message_uses_the_real_button(
    driver: SlackDriver, app: EchoApp, emu: SlackEmulator, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="U0BOB", text="Approve Alice?", blocks=APPROVAL_BLOCKS)
    reply = driver.click_button_in_message("U0BOB", "U0BOB", "approve")
    payload = echoed(reply)["payload"]
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0ACCESS"}
    assert payload["actions"][0]["action_id"] == "approve"
    assert payload["actions"][0]["value"] == "r1"
    assert payload["actions"][0]["block_id"] == "decide"
    assert payload["actions"][0]["type"] == "button"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "D0BOB",
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == "D0BOB"
    assert payload["message"]["ts"] == posted["ts"]
    assert "edited" not in payload["message"] and "channel" not in payload["message"]
    assert payload["response_url"] == reply.response_url
    assert payload["trigger_id"] == reply.trigger_id
    # replace_original through the click's response URL edits that very message.
    assert reply.response_url is not None
    request_body = json.dumps({"text": "Approved", "replace_original": True}).encode()
    urllib.request.urlopen(urllib.request.Request(reply.response_url, data=request_body), timeout=5).close()
    assert emu.dm_texts("U0BOB") == ["Approved"]


def test_click_on_a_missing_button_says_what_is_there(driver: SlackDriver, client: WebClient) -> None:
    client.chat_postMessage(channel="U0BOB", text="Approve Alice?", blocks=APPROVAL_BLOCKS)
    with pytest.raises(AssertionError, match="approve='r1', deny='r1'"):
        driver.click_button_in_message("U0BOB", "U0BOB", "revoke")


def test_click_picks_among_same_action_ids(driver: SlackDriver, client: WebClient) -> None:
    rows = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"grant {n}"},
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "Revoke"},
                "action_id": "revoke",
                "value": f"grant:{n}",
            },
        }
        for n in (1, 2)
    ]
    client.chat_postMessage(channel="C0GENERAL", text="grants", blocks=rows)
    with pytest.raises(AssertionError, match="value_contains"):
        driver.click_button_in_message("U0ALICE", "C0GENERAL", "revoke")
    reply = driver.click_button_in_message("U0ALICE", "C0GENERAL", "revoke", value_contains="grant:2")
    assert echoed(reply)["payload"]["actions"][0]["value"] == "grant:2"


def test_click_button_in_home_tab(driver: SlackDriver, emu: SlackEmulator, client: WebClient) -> None:
    home = {"type": "home", "blocks": APPROVAL_BLOCKS}
    published = client.views_publish(user_id="U0ALICE", view=home)["view"]
    payload = echoed(driver.click_button_in_view("U0ALICE", "home", "deny"))["payload"]
    assert payload["container"] == {"type": "view", "view_id": published["id"]}
    assert payload["view"]["type"] == "home"
    assert "response_url" not in payload
    assert payload["actions"][0]["value"] == "r1"


def test_click_in_ephemeral_message(driver: SlackDriver, emu: SlackEmulator, client: WebClient) -> None:
    client.chat_postEphemeral(channel="C0GENERAL", user="U0ALICE", text="Request?", blocks=APPROVAL_BLOCKS)
    reply = driver.click_button_in_ephemeral("U0ALICE", "approve")
    payload = echoed(reply)["payload"]
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload


def test_select_click(driver: SlackDriver) -> None:
    reply = driver.click("U0ALICE", "duration", channel_id="C0GENERAL", selected_option="7d")
    action = echoed(reply)["payload"]["actions"][0]
    assert action["type"] == "static_select"
    assert action["selected_option"]["value"] == "7d"


REQUEST_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "request_access",
    "private_metadata": "meta",
    "title": {"type": "plain_text", "text": "Request access"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "model",
            "label": {"type": "plain_text", "text": "Model"},
            "element": {
                "type": "static_select",
                "action_id": "model_select",
                "option_groups": [
                    {
                        "label": {"type": "plain_text", "text": "OpenAI"},
                        "options": [{"text": {"type": "plain_text", "text": "GPT-5"}, "value": "gpt-5"}],
                    }
                ],
            },
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "reason_text"},
        },
        {
            "type": "input",
            "block_id": "approver",
            "optional": True,
            "label": {"type": "plain_text", "text": "Approver"},
            "element": {"type": "users_select", "action_id": "who"},
        },
        {
            "type": "input",
            "block_id": "until",
            "label": {"type": "plain_text", "text": "Until"},
            "element": {"type": "datetimepicker", "action_id": "when"},
        },
        {
            "type": "input",
            "block_id": "flags",
            "optional": True,
            "label": {"type": "plain_text", "text": "Flags"},
            "element": {
                "type": "checkboxes",
                "action_id": "flag_boxes",
                "options": [{"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"}],
            },
        },
        {
            "type": "input",
            "block_id": "days",
            "optional": True,
            "label": {"type": "plain_text", "text": "Days"},
            "element": {"type": "number_input", "action_id": "days_n", "is_decimal_allowed": False},
        },
    ],
}


def open_request_modal(emu: SlackEmulator, client: WebClient) -> str:
    return client.views_open(trigger_id=emu.new_trigger_id("U0ALICE"), view=REQUEST_MODAL)["view"]["id"]


def test_submit_view_builds_slack_state(
    driver: SlackDriver, app: EchoApp, emu: SlackEmulator, client: WebClient
) -> None:
    view_id = open_request_modal(emu, client)
    reply = driver.submit_view(
        "U0ALICE",
        view_id,
        {"model": "gpt-5", "reason_text": "evals", "until": 1_900_000_000, "flags": ["urgent"], "days": 7},
    )
    payload = echoed(reply)["payload"]
    assert payload["type"] == "view_submission"
    assert payload["response_urls"] == []
    assert payload["trigger_id"] == reply.trigger_id
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (view_id, "request_access", "meta")
    values = view["state"]["values"]
    assert values["model"]["model_select"] == {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "GPT-5"}, "value": "gpt-5"},
    }
    assert values["reason"]["reason_text"] == {"type": "plain_text_input", "value": "evals"}
    assert values["approver"]["who"] == {"type": "users_select", "selected_user": None}
    assert values["until"]["when"] == {"type": "datetimepicker", "selected_date_time": 1_900_000_000}
    assert values["flags"]["flag_boxes"]["selected_options"][0]["value"] == "urgent"
    assert values["days"]["days_n"] == {"type": "number_input", "value": "7"}
    # The echo app's answer has no response_action, so Slack closes the modal.
    assert emu.open_modals("U0ALICE") == []


def test_submit_view_rejects_what_a_person_could_not_enter(
    driver: SlackDriver, emu: SlackEmulator, client: WebClient
) -> None:
    view_id = open_request_modal(emu, client)
    with pytest.raises(AssertionError, match="no input block for"):
        driver.submit_view("U0ALICE", view_id, {"nope": "x"})
    with pytest.raises(AssertionError, match="no option with value"):
        driver.submit_view("U0ALICE", view_id, {"model": "gpt-9"})


def test_submit_view_errors_ack_keeps_the_modal_open(
    driver: SlackDriver, app: EchoApp, emu: SlackEmulator, client: WebClient
) -> None:
    view_id = open_request_modal(emu, client)
    app.ack = {"response_action": "errors", "errors": {"reason": "Too short"}}
    reply = driver.submit_view("U0ALICE", view_id, {"reason": "x"})
    assert reply.json == app.ack
    assert [v["id"] for v in emu.open_modals("U0ALICE")] == [view_id]


def test_shortcut(driver: SlackDriver) -> None:
    reply = driver.shortcut("U0ALICE", "request_access")
    payload = echoed(reply)["payload"]
    assert (payload["type"], payload["callback_id"]) == ("shortcut", "request_access")
    assert payload["trigger_id"] == reply.trigger_id


def test_events_and_retries(driver: SlackDriver, emu: SlackEmulator, client: WebClient) -> None:
    first = echoed(driver.event({"type": "app_mention", "user": "U0ALICE", "text": "hi"}, event_id="Ev1"))
    assert first["content_type"] == "application/json"
    assert first["payload"]["type"] == "event_callback"
    assert first["payload"]["event_id"] == "Ev1"
    assert first["payload"]["team_id"] == "T0ACCESS"
    assert first["retry_num"] is None
    retried = echoed(driver.event({"type": "app_mention"}, event_id="Ev1", retry_num=1))
    assert (retried["retry_num"], retried["retry_reason"]) == ("1", "http_timeout")

    client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": APPROVAL_BLOCKS})
    opened = echoed(driver.app_home_opened("U0ALICE"))["payload"]["event"]
    assert (opened["type"], opened["user"], opened["tab"], opened["channel"]) == (
        "app_home_opened",
        "U0ALICE",
        "home",
        "D0ALICE",
    )
    assert opened["view"]["type"] == "home"


def test_user_change_carries_the_person_as_users_info_shows_them(
    driver: SlackDriver, emu: SlackEmulator, client: WebClient
) -> None:
    emu.set_user("U0ALICE", deleted=True)
    delivered = echoed(driver.user_change("U0ALICE", event_id="EvGone"))["payload"]
    event = delivered["event"]
    assert (delivered["event_id"], event["type"]) == ("EvGone", "user_change")
    assert event["user"] == client.users_info(user="U0ALICE")["user"]
    assert event["user"]["deleted"] is True
    with pytest.raises(AssertionError):
        driver.user_change("U0NOBODY")
