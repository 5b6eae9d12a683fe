"""The HTTP edge in front of Bolt: nothing reaches Bolt that Slack did not sign, recently, in a shape Bolt
can route.

In order, for every POST to /slack/events:
1. Size: a body over MAX_BODY_BYTES is answered 413 without being read (Slack's payloads are small: a
   modal is at most 250 kB of JSON, url-encoded a few times that).
2. Signature, on the raw bytes, before anything parses them: `X-Slack-Request-Timestamp` must be ASCII
   digits no older than MAX_AGE_SECONDS and no more than MAX_FUTURE_SECONDS ahead, and
   `X-Slack-Signature` must equal `v0=` + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body))
   (https://api.slack.com/authentication/verifying-requests-from-slack). Refused: 401.
3. Shape: strict UTF-8; a form body is a slash command or `payload=` holding a JSON object; a JSON body
   is an Events API object; JSON nesting deeper than MAX_DEPTH, NaN/Infinity and duplicate form fields
   are refused; the envelope must fit bot/slack/payloads.py. Refused: 400.
4. Every string in the payload loses the control characters no database stores (bot/domain/text.py),
   and Bolt gets the checked payload re-encoded as JSON. Bolt's own signature check is off: it parses the
   body before verifying it and logs the whole body when verification fails.

Refusals are logged as one fixed line: the reason and the size, never the body or header values.
Verified requests carry a replay key (the signature, or the event_id of an Events API delivery) that the
responder records once (bot/services/replays.py): a replay is answered without acting again.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from bot.domain.text import clean_text
from bot.request_metrics import SURFACE
from bot.slack.payloads import CommandEnvelope, EventEnvelope, InteractionEnvelope

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_AGE_SECONDS = 300  # Slack: reject requests older than five minutes
MAX_FUTURE_SECONDS = 30  # clocks drift a little; a request signed far ahead was made to be replayed later
MAX_DEPTH = 64  # Slack's deepest payloads (rich text in a modal's state) nest about 15 levels
MAX_FORM_FIELDS = 64
EVENT_MEMORY = timedelta(hours=1)  # Slack retries an event for about 5 minutes; remember it well past that

_SIGNATURE_LENGTH = len("v0=") + 64


class Refused(Exception):
    """A request the edge will not pass on: `status` is the HTTP answer, `reason` a fixed phrase."""

    def __init__(self, status: int, reason: str, size: int | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.size = size  # the body's size when it was not read


@dataclass(frozen=True)
class Checked:
    """A verified request: the payload to hand to Bolt and when the replay key may be forgotten."""

    payload: dict[str, Any]
    replay_key: str
    remember_until: datetime


def read_body(environ: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing (413) anything over `limit` bytes before reading it."""
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ.get("wsgi.input") or io.BytesIO()
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise Refused(400, "bad content length")
        if len(declared) > 12 or int(declared) > limit:
            raise Refused(413, "body too large", size=int(declared[:12]))
        return bytes(stream.read(int(declared)))
    body = bytes(stream.read(limit + 1))  # chunked: read no more than the cap allows
    if len(body) > limit:
        raise Refused(413, "body too large", size=len(body))
    return body


def verify_signature(
    secret: bytes, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> int:
    """Check Slack's signature over the raw bytes; returns the timestamp (seconds since the epoch).

    Raises Refused(401, reason) for a missing, malformed, stale, future or wrong signature.
    """
    if not timestamp or not signature:
        raise Refused(401, "unsigned")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Refused(401, "malformed timestamp")
    signed_at = int(timestamp)
    if now - signed_at > MAX_AGE_SECONDS:
        raise Refused(401, "stale timestamp")
    if signed_at - now > MAX_FUTURE_SECONDS:
        raise Refused(401, "timestamp in the future")
    if len(signature) != _SIGNATURE_LENGTH or not signature.isascii() or not signature.startswith("v0="):
        raise Refused(401, "malformed signature")
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Refused(401, "bad signature")
    return signed_at


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    # json reads 1e999 as infinity without asking parse_constant; it is no more JSON than Infinity.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large for a float")
    return value


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 leaves duplicate names to the parser: one that keeps the first value would read a
    # different question from the same text than json's last-one-wins does. Such text is refused.
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateKey("an object names a key twice")
    return found


def json_object(text: str) -> dict[str, Any]:
    """Strict JSON (no NaN or Infinity, no overflowing numbers, no key twice in an object) that is an
    object nested at most MAX_DEPTH levels. Raises Refused(400, reason) otherwise."""
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite, object_pairs_hook=_unique_keys
        )
    except _DuplicateKey:
        raise Refused(400, "JSON names a key twice in one object") from None
    except RecursionError:
        raise Refused(400, "JSON nested too deeply") from None
    except ValueError:
        raise Refused(400, "invalid JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, "JSON is not an object")
    if _depth(value) > MAX_DEPTH:
        raise Refused(400, "JSON nested too deeply")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "invalid form") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Refused(400, "repeated form field")
    return fields


def _cleaned(value: Any) -> Any:
    """The payload with every string (keys too) stripped of characters no database stores."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def _fits(model: type[BaseModel], payload: dict[str, Any]) -> None:
    try:
        model.model_validate(payload)
    except ValidationError:
        raise Refused(400, f"unexpected {model.__name__} shape") from None


def parse_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """The Slack payload in a verified body, checked against the envelope models; raises Refused(400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "invalid UTF-8") from None
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json":
        payload = _cleaned(json_object(text))
        _fits(EventEnvelope, payload)
        return payload
    if media != "application/x-www-form-urlencoded":
        raise Refused(400, "unsupported content type")
    fields = _form(text)
    if "payload" in fields:
        if len(fields) != 1:
            raise Refused(400, "payload with other fields")
        payload = _cleaned(json_object(fields["payload"]))
        _fits(InteractionEnvelope, payload)
        return payload
    if "ssl_check" in fields:
        return {"ssl_check": clean_text(fields["ssl_check"])}
    payload = _cleaned(fields)
    _fits(CommandEnvelope, payload)
    return payload


def replay_key(payload: dict[str, Any], signature: str, signed_at: int, now: float) -> tuple[str, datetime]:
    """What marks this request as already taken in, and until when that needs remembering.

    An Events API delivery is known by its event_id (Slack's retries of it carry new signatures); any
    other request by its signature, which covers its timestamp and every byte of its body.
    """
    event = _event_key(payload, now)
    if event is not None:
        return event
    digest = signature.lower().removeprefix("v0=")
    until = datetime.fromtimestamp(signed_at + MAX_AGE_SECONDS + MAX_FUTURE_SECONDS, UTC)
    return "sig:" + digest, until


# Interaction payload types (https://api.slack.com/reference/interaction-payloads) -> the surface name
# the metrics count them under.
_INTERACTION_SURFACES = {
    "block_actions": "block_action",
    "interactive_message": "block_action",
    "view_submission": "view_submission",
    "view_closed": "view_closed",
    "shortcut": "shortcut",
    "message_action": "message_shortcut",
    "block_suggestion": "options",
    "dialog_suggestion": "options",
}
_EVENT_SURFACES = {
    "event_callback": "event",
    "app_rate_limited": "event",
    "url_verification": "url_verification",
}


def _event_key(payload: dict[str, Any], now: float) -> tuple[str, datetime] | None:
    if payload.get("type") == "event_callback" and isinstance(payload.get("event_id"), str):
        return "event:" + payload["event_id"], datetime.fromtimestamp(now, UTC) + EVENT_MEMORY
    return None


# Socket Mode request types (https://api.slack.com/apis/socket-mode, "Request types") -> the envelope the
# same payload must fit over HTTP.
_SOCKET_ENVELOPES: dict[str, type[BaseModel]] = {
    "slash_commands": CommandEnvelope,
    "interactive": InteractionEnvelope,
    "events_api": EventEnvelope,
}


def socket_payload(kind: str, payload: Any) -> dict[str, Any]:
    """A Socket Mode request's payload (parsed from its WebSocket message), checked as the same payload
    over HTTP: an object nested at most MAX_DEPTH levels that fits the envelope of its request type
    `kind`, every string cleaned. Raises Refused(400, reason)."""
    model = _SOCKET_ENVELOPES.get(kind)
    if model is None:
        raise Refused(400, "unsupported Socket Mode request type")
    if not isinstance(payload, dict):
        raise Refused(400, "payload is not an object")
    if _depth(payload) > MAX_DEPTH:
        raise Refused(400, "JSON nested too deeply")
    if model is CommandEnvelope and not all(isinstance(value, str) for value in payload.values()):
        raise Refused(400, "command field that is not a string")  # as in the form Slack posts over HTTP
    checked = _cleaned(payload)
    _fits(model, checked)
    return checked


def socket_replay_key(payload: dict[str, Any], envelope_id: str, now: float) -> tuple[str, datetime]:
    """replay_key for a Socket Mode request: an event by its event_id, anything else by its envelope id
    (Slack's own id of the delivery), remembered as long as a signed request's."""
    event = _event_key(payload, now)
    if event is not None:
        return event
    until = datetime.fromtimestamp(now + MAX_AGE_SECONDS + MAX_FUTURE_SECONDS, UTC)
    return "socket:" + clean_text(envelope_id)[:200], until


def noted_rate_limit(payload: dict[str, Any]) -> bool:
    """Whether a checked payload is Slack's `app_rate_limited` notice, logged if so: Slack is holding
    events back, and there is nothing to do but note it."""
    if payload.get("type") != "app_rate_limited":
        return False
    log.warning("Slack reports that event deliveries are being rate limited")
    return True


def surface_of(payload: dict[str, Any]) -> str:
    """Which Slack surface a checked payload comes from, as the metrics name it: `slash_command`,
    one of the interaction surfaces above, `event`, `url_verification`, `ssl_check`, or `other`."""
    if "command" in payload:
        return "slash_command"
    if "ssl_check" in payload:
        return "ssl_check"
    kind = str(payload.get("type") or "")
    return _INTERACTION_SURFACES.get(kind) or _EVENT_SURFACES.get(kind) or "other"


def check(environ: dict[str, Any], body: bytes, secret: bytes, now: float) -> Checked:
    """Verify and parse one request (see the module docstring); raises Refused."""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    signed_at = verify_signature(secret, body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), signature, now)
    payload = parse_payload(body, str(environ.get("CONTENT_TYPE") or ""))
    key, until = replay_key(payload, str(signature), signed_at, now)
    return Checked(payload, key, until)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SlackEdge:
    """WSGI middleware: verifies and checks a request (see the module docstring), then calls `inner` with
    the checked payload as a JSON body. `on_checked(checked)` runs first, in the request's thread."""

    def __init__(
        self,
        inner: WsgiApp,
        signing_secret: str,
        *,
        on_checked: Callable[[Checked], None] = lambda _checked: None,
        clock: Callable[[], float] = time.time,
    ):
        self.inner = inner
        self.secret = signing_secret.encode()
        self.on_checked = on_checked
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        size = 0
        try:
            body = read_body(environ)
            size = len(body)
            checked = check(environ, body, self.secret, self.clock())
        except Refused as refused:
            size = refused.size if refused.size is not None else size
            log.warning("refused a Slack request: %s (%d bytes)", refused.reason, size)
            return _answer(start_response, refused.status, refused.reason)
        environ[SURFACE] = surface_of(checked.payload)
        if noted_rate_limit(checked.payload):
            return _answer(start_response, 200, "ok")
        self.on_checked(checked)
        data = json.dumps(checked.payload, ensure_ascii=False, allow_nan=False).encode()
        inner_environ = {
            **environ,
            "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json",
            "QUERY_STRING": "",
        }
        return self.inner(inner_environ, start_response)


def _answer(start_response: Callable[..., Any], status: int, reason: str) -> Iterable[bytes]:
    phrases = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large"}
    data = json.dumps({"ok": status == 200, "error": None if status == 200 else reason}).encode()
    start_response(
        f"{status} {phrases.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]
