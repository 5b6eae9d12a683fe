"""A real Bolt app between the driver and the emulator: proves the three speak the same protocol.

Slash command -> modal (trigger id) -> submission with validation errors -> submission that posts a
DM with buttons -> a click that updates the DM through chat.update and answers on the response URL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.emulator import blocks_to_text
from tests.support.slack import SlackDriver, SlackEmulator

SECRET = "bolt-signing-secret"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def request_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "request",
        "title": {"type": "plain_text", "text": "Request access"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }


def build_app(emu: SlackEmulator) -> App:
    app = App(
        client=WebClient(base_url=emu.url, token=emu.bot_token),
        signing_secret=SECRET,
    )

    @app.command("/access")
    def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=request_modal())

    @app.view("request")
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        reason = view["state"]["values"]["reason"]["text"]["value"] or ""
        if len(reason) < 5:
            ack(response_action="errors", errors={"reason": "Please say a bit more"})
            return
        ack()
        client.chat_postMessage(
            channel="U0BOB",
            text=f"Alice asks for access: {reason}",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Alice asks for access: {reason}"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Approve"},
                            "action_id": "approve",
                            "value": "req-1",
                        }
                    ],
                },
            ],
        )

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        value = body["actions"][0]["value"]
        client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"Approved {value}",
            blocks=[],
        )
        respond(text=f"You approved {value}", replace_original=False)

    return app


@pytest.fixture
def bolt_url(emu: SlackEmulator) -> Iterator[str]:
    server = make_server(
        "127.0.0.1", 0, SlackRequestHandler(build_app(emu)), _ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


def test_request_approve_round_trip(bolt_url: str, emu: SlackEmulator) -> None:
    driver = SlackDriver(bolt_url, SECRET, emu)
    assert driver.command("U0ALICE", "").status == 200
    [modal] = emu.wait_for(lambda: emu.views_opened("U0ALICE"))

    short = driver.submit_view("U0ALICE", modal["id"], {"reason": "hm"})
    assert short.json == {"response_action": "errors", "errors": {"reason": "Please say a bit more"}}
    assert emu.open_modals("U0ALICE")

    assert driver.submit_view("U0ALICE", modal["id"], {"text": "quarterly evals"}).status == 200
    assert emu.open_modals("U0ALICE") == []
    emu.wait_for(lambda: emu.dm_texts("U0BOB"))
    assert "[Approve]" in blocks_to_text(emu.messages("U0BOB")[-1]["blocks"])

    assert driver.click_button_in_message("U0BOB", "U0BOB", "approve").status == 200
    emu.wait_for(lambda: emu.dm_texts("U0BOB") == ["Approved req-1"])
    emu.wait_for(lambda: [e["text"] for e in emu.ephemerals("U0BOB")] == ["You approved req-1"])
    assert emu.violations == []
    assert driver.command("U0ALICE", "", sign=False).status == 401
