"""Socket Mode (`accessbot socket`): each request goes through the checks of the HTTP edge that apply to
it (shape, cleaning, replays) and is counted in the metrics, before and as Bolt handles it. The
emulator has no WebSocket, so the test's driver hands each payload it would have POSTed to the bot's
Socket Mode handler as the Socket Mode client would, and reads the acknowledgement it sends back."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.emulator.driver import JSON, Reply
from bot.metrics import REGISTRY
from bot.slack.socket_mode import CheckedSocketModeHandler
from tests.support.app import InProcessBot
from tests.support.slack import SlackDriver, SlackEmulator

# The transport; replays and the edge's checks are tested on both databases by tests/e2e/test_edge.py.
pytestmark = pytest.mark.any_database("the Socket Mode transport")

ALICE = "U0ALICE01"


class _Acks:
    """What a Socket Mode client offers a listener: somewhere to send acknowledgements, and a logger."""

    def __init__(self) -> None:
        self.sent: list[SocketModeResponse] = []
        self.logger = logging.getLogger("tests.socket_mode")

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)


class SocketDriver(SlackDriver):
    """The test driver, delivering over Socket Mode: a request's body becomes the payload of a Socket
    Mode request of the matching type, and its acknowledgement the reply."""

    def __init__(self, handler: CheckedSocketModeHandler, emulator: SlackEmulator):
        super().__init__("socket-mode", "unused", emulator)
        self.handler = handler
        self.acks = _Acks()

    def raw(self, body: bytes, headers: object = None, content_type: str = JSON, **_signing: object) -> Reply:
        """Deliver `body` over Socket Mode (headers and signing have no part there)."""
        if content_type == JSON:
            kind, payload = "events_api", json.loads(body)
        else:
            fields = dict(parse_qsl(body.decode()))
            kind, payload = (
                ("interactive", json.loads(fields["payload"]))
                if "payload" in fields
                else ("slash_commands", fields)
            )
        return self.deliver(kind, payload)

    def deliver(self, kind: str, payload: Any, envelope_id: str | None = None) -> Reply:
        """One Socket Mode request; the reply holds its acknowledgement's payload (None: an empty ack)."""
        message = {"type": kind, "envelope_id": envelope_id or str(uuid.uuid4()), "payload": payload}
        started = time.monotonic()
        self.handler.handle(self.acks, SocketModeRequest.from_dict(message))  # type: ignore[arg-type]
        ack = self.acks.sent[-1]
        assert ack.envelope_id == message["envelope_id"]
        return Reply(200, json.dumps(ack.payload), ack.payload, time.monotonic() - started)


@pytest.fixture
def socket(server: InProcessBot, emulator: SlackEmulator) -> Iterator[SocketDriver]:
    assert server.runtime is not None
    handler = CheckedSocketModeHandler(server.runtime.app, "xapp-1-A0ACCESS-1-socket")
    try:
        yield SocketDriver(handler, emulator)
    finally:
        handler.close()


def requests(surface: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("accessbot_requests_total", {"surface": surface, "outcome": outcome}) or 0.0
    )


def test_a_slash_command_over_socket_mode_is_answered_and_counted(socket: SocketDriver) -> None:
    before = requests("slash_command", "acked")
    reply = socket.command(ALICE, "status")
    assert reply.json is not None and reply.json["text"].startswith("Your access: 0 grant(s)")
    assert requests("slash_command", "acked") == before + 1


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("slash_commands", {"command": "/access", "text": "status", "user_id": ["U0ALICE01"]}),
        ("interactive", {"type": "block_actions", "user": "U0ALICE01", "actions": "approve"}),
        ("events_api", {"type": "event_callback", "event": "app_home_opened"}),
        ("slash_commands", {"command": "/access", "text": {"nested": "status"}}),
        ("hello", {"type": "hello"}),
    ],
)
def test_a_payload_that_does_not_fit_is_acknowledged_and_not_acted_on(
    socket: SocketDriver, emulator: SlackEmulator, server: InProcessBot, kind: str, payload: Any
) -> None:
    before = requests("unknown", "malformed")
    emulator.reset_calls()
    reply = socket.deliver(kind, payload)
    assert reply.json is None  # acknowledged, with nothing to say
    assert requests("unknown", "malformed") == before + 1
    server.settle()
    assert emulator.calls() == []
    assert "refused a Socket Mode request" in server.log()


def test_an_event_delivered_again_is_taken_in_once(
    socket: SocketDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    socket.app_home_opened(ALICE, event_id="Ev0SOCKET01")
    emulator.wait_for(lambda: emulator.calls("views.publish"))
    server.settle()
    emulator.reset_calls()
    for retry in (1, 2):
        socket.app_home_opened(ALICE, event_id="Ev0SOCKET01", retry_num=retry)
    server.settle()
    assert emulator.calls("views.publish") == []
    socket.app_home_opened(ALICE, event_id="Ev0SOCKET02")  # a new event is handled
    emulator.wait_for(lambda: emulator.calls("views.publish"))


def test_control_characters_are_cleaned_before_the_bot_reads_them(socket: SocketDriver) -> None:
    reply = socket.command(ALICE, "stat\x00us")
    assert reply.json is not None and reply.json["text"].startswith("Your access: 0 grant(s)")


def test_slacks_rate_limit_notice_is_acknowledged_logged_and_not_acted_on(
    socket: SocketDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    server.settle()
    emulator.reset_calls()
    before = requests("event", "acked")
    notice = {"type": "app_rate_limited", "team_id": "T0ACCESS01", "minute_rate_limited": 1800000000}
    reply = socket.deliver("events_api", notice)
    assert reply.json is None  # acknowledged, with nothing to say
    assert requests("event", "acked") == before + 1
    server.settle()
    assert emulator.calls() == []
    assert "event deliveries are being rate limited" in server.log()
