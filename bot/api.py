"""The decision API's HTTP edge: POST /v1/access/check, for AI gateways (bot/services/gateway.py decides).

The caller authenticates with `Authorization: Bearer <ACCESSBOT_GATEWAY_TOKEN>`. Without a usable token
in the settings the endpoint answers 503 and says it is disabled. A wrong or missing token is 401. Past
that, every request gets HTTP 200 and a decision: a body that is not a check is denied with the reason,
never answered with an error page, so that a gateway has one thing to read. Only when the database does
not answer is it 503, still with a denial in JSON (`unavailable`). Responses are never cached.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError
from bot.request_metrics import OUTCOME
from bot.services.gateway import Gateway
from bot.slack.edge import Refused, json_object, read_body

log = logging.getLogger(__name__)

CHECK_PATH = "/v1/access/check"
MAX_CHECK_BYTES = 16 * 1024  # a check is a key and a model name; anything near this is not one
DISABLED = "The decision API is disabled: ACCESSBOT_GATEWAY_TOKEN is not set to a usable secret."
# The denial when the database does not answer: nothing can be decided, so nothing is allowed.
UNAVAILABLE = {
    "allow": False,
    "code": "unavailable",
    "reason": "AccessBot cannot reach its records right now; try again shortly.",
    "cache_seconds": 0,
}


class DecisionApi:
    """The WSGI handler of CHECK_PATH. `token` None: disabled."""

    def __init__(self, gateway: Gateway, token: str | None):
        self.gateway = gateway
        self._token = token.encode() if token else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return json_response(
                start_response, "405 Method Not Allowed", {"error": "use POST"}, [("Allow", "POST")]
            )
        if self._token is None:
            return json_response(start_response, "503 Service Unavailable", {"error": DISABLED})
        if not self._authorised(str(environ.get("HTTP_AUTHORIZATION") or "")):
            headers = [("WWW-Authenticate", 'Bearer realm="accessbot"')]
            error = {"error": "send the gateway token as `Authorization: Bearer <token>`"}
            return json_response(start_response, "401 Unauthorized", error, headers)
        try:
            text = read_body(environ, MAX_CHECK_BYTES).decode("utf-8")
            decision = self.gateway.check(json_object(text))
        except Refused as refused:
            decision = self.gateway.malformed(_problem(refused.reason))
        except UnicodeDecodeError:
            decision = self.gateway.malformed("the body is not UTF-8 text")
        except SQLAlchemyError as error:
            log.warning("gateway check: the database did not answer (%s)", type(error).__name__)
            environ[OUTCOME] = "unavailable"
            retry = [("Retry-After", "1")]
            return json_response(start_response, "503 Service Unavailable", UNAVAILABLE, retry)
        return json_response(start_response, "200 OK", decision.as_json())

    def _authorised(self, header: str) -> bool:
        return bearer_matches(header, self._token)


def bearer_matches(header: str, token: bytes | None) -> bool:
    """Whether an Authorization header is `Bearer <token>` (compared in constant time); never with no
    token."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), token)


def _problem(reason: str) -> str:
    return {
        "JSON is not an object": 'the body must be a JSON object: {"key": ..., "model": ...}',
        "body too large": f"the body is larger than {MAX_CHECK_BYTES:,} bytes",
        "JSON names a key twice in one object": "the body names a key twice in one object",
        "JSON nested too deeply": "the body is nested too deeply",
    }.get(reason, f"the body is not valid JSON ({reason})")


def json_response(
    start_response: Callable[..., Any],
    status: str,
    body: dict[str, Any],
    headers: Iterable[tuple[str, str]] = (),
) -> Iterable[bytes]:
    """A JSON answer that no cache keeps: `status` as WSGI spells it ("200 OK")."""
    payload = json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            *headers,
        ],
    )
    return [payload]


def not_found(start_response: Callable[..., Any]) -> Iterable[bytes]:
    """404, for any path or method nothing here answers."""
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]


Server = TypeVar("Server")


def listening(create: Callable[[], Server], host: str, port: int, setting: str) -> Server:
    """`create()`, a server that binds `host`:`port` at once (waitress's create_server). Raises
    ConfigError naming `setting`, the variable that chose the port, when it cannot bind (the port is
    taken, or the address is not this machine's): one line for the operator, not a traceback."""
    try:
        return create()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(
            f"cannot listen on {host}:{port} ({reason}); is another process using it? Change {setting}"
        ) from None
