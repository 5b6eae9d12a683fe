"""The HTTP edge over real HTTP: what is refused before Bolt sees it, what is logged about it, and how
replays and retries are answered without acting again (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlencode

from tests.support.app import InProcessBot
from tests.support.bot_server import SIGNING_SECRET
from tests.support.cli import listed
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA = "U0ALICE01", "U0MARIA01"
WHY = "Evaluating summarisation quality for the quarterly research report"


def post(server: InProcessBot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(server.events_url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def signed_headers(body: bytes, content_type: str, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def log_growth(server: InProcessBot, action: Callable[[], object]) -> str:
    """What the log gained while `action` ran, less the scheduler's job summaries: those report work on
    its own timer (sealing the audit events the bot's start wrote, the daily checkpoint), whenever it
    comes round, not anything the request caused."""
    before = len(server.log())
    action()
    server.settle()  # the edge logs a refusal before it answers; settle covers any work it started
    added = server.log()[before:].split("\n")
    return "\n".join(line for line in added if " bot.scheduler: " not in line)


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def oversized(server: InProcessBot, declared: int, sent: bytes = b"") -> int:
    """Announce a body of `declared` bytes, send only `sent` of it, and read the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", FORM)
        connection.putheader("Content-Length", str(declared))
        connection.endheaders()
        if sent:
            connection.send(sent)
        return connection.getresponse().status
    finally:
        connection.close()


def test_an_oversized_body_is_refused_with_413_before_it_is_read(server: InProcessBot) -> None:
    added = log_growth(server, lambda: oversized(server, 5 * 1024 * 1024, b"A" * 65536))
    assert oversized(server, 5 * 1024 * 1024, b"A" * 65536) == 413
    assert oversized(server, 10**12) == 413
    assert len(added) < 500
    assert "AAAA" not in added


def test_a_refused_request_logs_one_fixed_line_whatever_its_body(server: InProcessBot) -> None:
    forged = b"text=hello\nINFO bot.services: grant G1 created for U0EVE0001\n"
    added = log_growth(server, lambda: post(server, forged, {"Content-Type": FORM}))
    assert "grant G1 created" not in added
    assert added.count("\n") <= 1
    assert "refused a Slack request: unsigned" in added


def test_a_stale_genuine_request_leaves_nothing_personal_in_the_log(
    server: InProcessBot, slack: SlackDriver
) -> None:
    secret = "SECRET-JUSTIFICATION-" + "x" * 20
    stale = int(time.time()) - 600
    holder: dict[str, object] = {}

    def send() -> None:
        holder["reply"] = slack.command(ALICE, f"request lumen-3 {secret}", timestamp=stale)

    added = log_growth(server, send)
    reply = holder["reply"]
    assert reply.status == 401  # type: ignore[attr-defined]
    for leaked in (secret, ALICE, reply.trigger_id, reply.response_url, "lumen-3"):  # type: ignore[attr-defined]
        assert str(leaked) not in added
    assert "stale timestamp" in added
    assert listed(server, "requests") == []


MALFORMED = [
    (b"{not json", JSON),
    (b'["a", "list"]', JSON),
    (b"42", JSON),
    (b"payload=%7Bnot+json", FORM),
    (b"payload=%5B1%2C2%5D", FORM),
    (b"\xff\xfe\xfa command=/access", FORM),
    (b"command=%2Faccess&text=%FF%FE", FORM),
    (b"payload=" + b"%5B" * 5000 + b"%5D" * 5000, FORM),
    (b'{"type":"event_callback","event":' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON),
    (b'{"type":"event_callback","event_id":"Ev1","event":{"type":"x","n":NaN}}', JSON),
    (b'{"type":"url_verification","challenge":"x","n":1e999}', JSON),
    (b'{"type":"event_callback","event_id":"Ev1","event":{"type":"x","n":1' + b"0" * 5000 + b"}}", JSON),
    (b"command=%2Faccess&command=%2Fdirective", FORM),
    (b"<xml/>", "text/xml"),
]


def test_malformed_bodies_get_400_signed_and_401_unsigned_never_500(server: InProcessBot) -> None:
    for body, content_type in MALFORMED:
        assert post(server, body, {"Content-Type": content_type})[0] == 401, body[:60]
        assert post(server, body, signed_headers(body, content_type))[0] == 400, body[:60]
    assert "Traceback" not in server.log()


def test_malformed_timestamps_are_refused_with_401(server: InProcessBot) -> None:
    body = urlencode({"command": "/access", "text": "status", "user_id": ALICE}).encode()
    for timestamp in ("abc", "1.5", "1e9", "", "9" * 400, "-5", " 1700000000", "١٢٣", "0x10"):
        headers = signed_headers(body, FORM, timestamp.encode("utf-8").decode("latin-1"))
        assert post(server, body, headers)[0] == 401, timestamp
    assert "Traceback" not in server.log()


def test_a_timestamp_ahead_of_now_is_refused(slack: SlackDriver, server: InProcessBot) -> None:
    assert slack.command(ALICE, f"request lumen-3 {WHY}", timestamp=int(time.time()) + 120).status == 401
    assert slack.command(ALICE, "status", timestamp=int(time.time()) + 10).status == 200
    assert listed(server, "requests") == []


def test_an_identical_replay_is_answered_without_acting_again(
    slack: SlackDriver, server: InProcessBot, emulator: SlackEmulator
) -> None:
    body = urlencode(
        {
            "command": "/access",
            "text": f"request lumen-3 {WHY}",
            "user_id": ALICE,
            "team_id": "T0ACCESS",
            "channel_id": "C0GENERAL",
            "trigger_id": emulator.new_trigger_id(ALICE),
            "response_url": emulator.new_response_url(ALICE, "C0GENERAL"),
        }
    ).encode()
    headers = signed_headers(body, FORM)
    first = post(server, body, headers)
    assert "R1 filed" in first[1]
    assert "Cancelled R1" in slack.command(ALICE, "cancel R1").body
    replay = post(server, body, headers)
    assert replay[0] == 200
    assert "already received this exact request" in replay[1]
    assert [r["status"] for r in listed(server, "requests")] == ["cancelled"]


def test_a_replayed_break_glass_after_its_grant_ended_grants_nothing(
    slack: SlackDriver, server: InProcessBot, emulator: SlackEmulator
) -> None:
    """Break-glass needs no approval, so only the replay guard stands between a replayed request and a
    second grant once the first has ended."""
    owen, admin = "U0OWEN001", "U0ADMIN01"
    body = urlencode(
        {
            "command": "/access",
            "text": "breakglass mythos-5 Production incident INC-4411: the summariser is down",
            "user_id": owen,
            "team_id": "T0ACCESS",
            "channel_id": "C0GENERAL",
            "trigger_id": emulator.new_trigger_id(owen),
            "response_url": emulator.new_response_url(owen, "C0GENERAL"),
        }
    ).encode()
    headers = signed_headers(body, FORM)
    assert "Break-glass access to Mythos 5 until" in post(server, body, headers)[1]
    (grant,) = listed(server, "grants")
    assert "Revoked" in slack.command(admin, f"revoke G{grant['id']} no incident on record").body
    replay = post(server, body, headers)
    assert replay[0] == 200
    assert "already received this exact request" in replay[1]
    assert [g["status"] for g in listed(server, "grants")] == ["revoked"]


def test_a_replay_to_another_replica_is_recognised(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator
) -> None:
    one, two = start_server(), start_server()
    body = urlencode(
        {
            "command": "/access",
            "text": f"request lumen-3 {WHY}",
            "user_id": ALICE,
            "trigger_id": emulator.new_trigger_id(ALICE),
            "response_url": emulator.new_response_url(ALICE, "C0GENERAL"),
        }
    ).encode()
    headers = signed_headers(body, FORM)
    assert "R1 filed" in post(one, body, headers)[1]
    assert "already received" in post(two, body, headers)[1]
    assert len(listed(one, "requests")) == 1


def test_slack_retries_of_an_event_are_not_handled_again(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.app_home_opened(ALICE, event_id="Ev0HOME0001")
    emulator.wait_for(lambda: emulator.home(ALICE))
    emulator.wait_for(lambda: len(emulator.calls("views.publish")) == 1)
    for retry in (1, 2, 3):
        assert slack.app_home_opened(ALICE, event_id="Ev0HOME0001", retry_num=retry).status == 200
    slack.app_home_opened(ALICE, event_id="Ev0HOME0002")
    emulator.wait_for(lambda: len(emulator.calls("views.publish")) == 2)
    server.settle()
    assert len(emulator.calls("views.publish")) == 2


def test_an_event_of_a_type_it_does_not_handle_is_acknowledged_and_left_alone(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # A subscription may gain an event type before a release handles it: answered anything but 200,
    # Slack would deliver it three more times, each a failure on the app's record.
    server.settle()
    emulator.reset_calls()
    unknown = {"type": "reaction_added", "user": ALICE, "reaction": "<!channel> hi", "event_ts": "1.2"}
    statuses: list[int] = []
    added = log_growth(
        server,
        lambda: statuses.extend(
            slack.event(unknown, event_id="Ev0UNKNOWN1", retry_num=retry).status for retry in (None, 1)
        ),
    )
    assert statuses == [200, 200]
    assert ALICE not in added and "channel" not in added  # nothing from the event is logged
    server.settle()
    assert emulator.calls() == []
    # The events it does handle still reach their listeners.
    slack.app_home_opened(ALICE)
    emulator.wait_for(lambda: emulator.home(ALICE))


def test_a_command_containing_the_word_payload_still_works(slack: SlackDriver) -> None:
    # Bolt reads any form body containing "payload" as an interaction; the edge hands it JSON instead.
    reply = slack.command(ALICE, "request lumen-3 Testing the payload parser of our evaluation harness")
    assert "R1 filed" in reply.body


def test_other_paths_and_methods_are_not_found(server: InProcessBot) -> None:
    assert post_path(server, "/slack/other") == 404
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
        assert json.loads(response.read())["ok"] is True


def post_path(server: InProcessBot, path: str) -> int:
    request = urllib.request.Request(server.url + path, data=b"x", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_slacks_rate_limit_notice_is_logged_and_answered_without_acting(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # Slack's notice that it is holding event deliveries back (Events API docs, "Rate limiting").
    notice = {
        "token": "unused",
        "type": "app_rate_limited",
        "team_id": "T0ACCESS01",
        "minute_rate_limited": int(time.time()) // 60 * 60,
        "api_app_id": "A0ACCESS01",
    }
    server.settle()
    emulator.reset_calls()
    statuses: list[int] = []
    added = log_growth(server, lambda: statuses.append(slack.raw(json.dumps(notice).encode()).status))
    assert statuses == [200]
    assert "event deliveries are being rate limited" in added
    server.settle()
    assert emulator.calls() == []
