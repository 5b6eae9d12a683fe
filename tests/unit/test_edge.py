"""The edge's rules, without a server: body size, signature and timestamp, payload shape, replay keys."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from urllib.parse import urlencode

import pytest

from bot.slack.edge import (
    MAX_AGE_SECONDS,
    MAX_BODY_BYTES,
    MAX_FUTURE_SECONDS,
    Refused,
    parse_payload,
    read_body,
    replay_key,
    verify_signature,
)

SECRET = b"unit-secret"
NOW = 1_800_000_000.0
FORM = "application/x-www-form-urlencoded"


def sign(body: bytes, timestamp: str) -> str:
    return "v0=" + hmac.new(SECRET, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def refusal(call: object, *args: object) -> tuple[int, str]:
    with pytest.raises(Refused) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.status, caught.value.reason


def test_bodies_over_the_cap_are_refused_before_they_are_read() -> None:
    class Unreadable(io.BytesIO):
        def read(self, *_: object) -> bytes:
            raise AssertionError("the body was read")

    environ = {"CONTENT_LENGTH": str(MAX_BODY_BYTES + 1), "wsgi.input": Unreadable()}
    assert refusal(read_body, environ) == (413, "body too large")
    assert refusal(read_body, {"CONTENT_LENGTH": "9" * 40, "wsgi.input": Unreadable()})[0] == 413
    assert refusal(read_body, {"CONTENT_LENGTH": "12abc", "wsgi.input": Unreadable()})[0] == 400
    chunked = {"wsgi.input": io.BytesIO(b"x" * (MAX_BODY_BYTES + 10))}
    assert refusal(read_body, chunked)[0] == 413
    assert read_body({"CONTENT_LENGTH": "3", "wsgi.input": io.BytesIO(b"abcdef")}) == b"abc"


def test_a_signature_is_checked_on_the_exact_bytes() -> None:
    body = "text=café".encode()
    ts = str(int(NOW))
    assert verify_signature(SECRET, body, ts, sign(body, ts), NOW) == int(NOW)
    upper = sign(body, ts).upper().replace("V0=", "v0=")
    assert refusal(verify_signature, SECRET, body, ts, upper, NOW) == (401, "bad signature")
    assert refusal(verify_signature, SECRET, body + b" ", ts, sign(body, ts), NOW) == (401, "bad signature")
    invalid_utf8 = b"\xff\xfe"
    assert verify_signature(SECRET, invalid_utf8, ts, sign(invalid_utf8, ts), NOW) == int(NOW)


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        (None, "unsigned"),
        ("", "unsigned"),
        ("abc", "malformed timestamp"),
        ("1.5", "malformed timestamp"),
        ("1e9", "malformed timestamp"),
        ("9" * 400, "malformed timestamp"),
        (" 1800000000", "malformed timestamp"),
        ("-5", "malformed timestamp"),
        ("\u0661\u0668\u0660\u0660", "malformed timestamp"),
        (str(int(NOW) - MAX_AGE_SECONDS - 1), "stale timestamp"),
        (str(int(NOW) + MAX_FUTURE_SECONDS + 1), "timestamp in the future"),
    ],
)
def test_timestamps_that_are_not_recent_ascii_seconds_are_refused(timestamp: str | None, reason: str) -> None:
    body = b"command=%2Faccess"
    signature = sign(body, timestamp or "0")
    assert refusal(verify_signature, SECRET, body, timestamp, signature, NOW) == (401, reason)


@pytest.mark.parametrize("signature", ["", "v0=", "v1=" + "0" * 64, "v0=" + "g" * 64, "v0=" + "é" * 64])
def test_malformed_signatures_are_refused(signature: str) -> None:
    ts = str(int(NOW))
    assert refusal(verify_signature, SECRET, b"x", ts, signature, NOW)[0] == 401


def test_payloads_are_parsed_strictly_and_cleaned() -> None:
    command = urlencode({"command": "/access", "text": "request\x00 lumen-3 \x1b[31mwhy\r\n"}).encode()
    assert parse_payload(command, FORM)["text"] == "request lumen-3 [31mwhy\n"
    interaction = {"type": "shortcut", "callback_id": "x", "user": {"id": "U1\ud800"}}
    body = urlencode({"payload": json.dumps(interaction)}).encode()
    assert parse_payload(body, FORM + "; charset=utf-8")["user"]["id"] == "U1"
    for bad, content_type in [
        (b"\xff", FORM),
        (b"command=%FF", FORM),
        (b"command=%2Fa&command=%2Fb", FORM),
        (b"payload=%7B%7D&command=%2Fa", FORM),
        (b"text=no+command", FORM),
        (b"payload=" + urlencode({"x": json.dumps({"type": "dialog_submission"})}).encode(), FORM),
        (b'{"type": "event_callback"}', "application/json"),
        (b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": 5}}', "application/json"),
        (b'{"type": "url_verification"}', "application/json"),
        (b'{"a": ' * 70 + b"1" + b"}" * 70, "application/json"),
        (b'{"type": "url_verification", "challenge": "x", "n": 1e999}', "application/json"),
        (b'{"type": "url_verification", "challenge": "x", "n": -1E400}', "application/json"),
        (b"{}", "text/plain"),
    ]:
        with pytest.raises(Refused) as caught:
            parse_payload(bad, content_type)
        assert caught.value.status == 400, bad[:60]


def test_interaction_envelopes_must_be_routable_by_bolt() -> None:
    def body(payload: object) -> bytes:
        return urlencode({"payload": json.dumps(payload)}).encode()

    base = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a"}]}
    assert parse_payload(body(base), FORM)["type"] == "block_actions"
    for broken in (
        {**base, "actions": []},
        {**base, "actions": [{"value": "1"}]},
        {**base, "user": 5},
        {**base, "user": {"id": 5}},
        {**base, "team": ["T1"]},
        {**base, "response_urls": None},
        {**base, "response_urls": [{}, {}]},
        {**base, "message": {"user": 7}},
        {**base, "function_execution_id": "Fx1"},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "c"}},
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {"callback_id": "c", "type": "workflow_step"},
        },
        {"type": "shortcut", "user": {"id": "U1"}},
    ):
        with pytest.raises(Refused):
            parse_payload(body(broken), FORM)


def test_replay_keys_are_the_signature_or_the_event_id() -> None:
    key, until = replay_key({"command": "/access"}, "v0=" + "AB" * 32, int(NOW), NOW)
    assert key == "sig:" + "ab" * 32
    assert until.timestamp() == int(NOW) + MAX_AGE_SECONDS + MAX_FUTURE_SECONDS
    event = {"type": "event_callback", "event_id": "Ev42"}
    first, _ = replay_key(event, "v0=" + "1" * 64, int(NOW), NOW)
    retried, _ = replay_key(event, "v0=" + "2" * 64, int(NOW) + 60, NOW + 60)
    assert first == retried == "event:Ev42"
