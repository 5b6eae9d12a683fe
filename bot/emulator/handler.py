"""The emulator's HTTP side: request decoding and the routes.

``POST /api/<method>`` is the Web API (bearer token required), ``POST /response/<id>`` a response URL
(no auth, like hooks.slack.com); anything else is 404. The handler only decodes and encodes: the
emulator answers (``SlackEmulator.handle_api`` / ``handle_response_url``).
"""

from __future__ import annotations

import contextlib
import json
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

# Parameters that slack_sdk (or a form post) may send as JSON text rather than as JSON values.
_JSON_PARAMS = ("blocks", "view", "metadata", "attachments")


class Answers(Protocol):
    """What the handler needs from the emulator."""

    def handle_api(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]: ...

    def handle_response_url(self, url_id: str, raw: bytes) -> tuple[int, str]: ...


def decode_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query-string and body parameters (JSON or form-encoded), decoding JSON-valued fields.

    Raises ValueError (or UnicodeDecodeError) for a JSON body that is not an object or not UTF-8.
    """
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        if "json" in content_type:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            params.update(decoded)
        else:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Left as text when it does not parse: the method then reports it as malformed.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def make_handler(emulator: Answers) -> type[BaseHTTPRequestHandler]:
    """A request handler class for ``ThreadingHTTPServer`` that routes to ``emulator``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "SlackEmulator/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the call log is the record; stderr noise would drown test output

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            path = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                if path.path.startswith("/api/"):
                    self._api(path.path.removeprefix("/api/"), path.query, raw)
                elif path.path.startswith("/response/"):
                    status, text = emulator.handle_response_url(path.path.removeprefix("/response/"), raw)
                    self._send(status, text.encode(), "text/plain; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain; charset=utf-8")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. timed out while its answer was held back)

        def _api(self, method: str, query: str, raw: bytes) -> None:
            try:
                params = decode_params(query, raw, self.headers.get("Content-Type", ""))
            except (ValueError, UnicodeDecodeError):
                self._json(200, {"ok": False, "error": "invalid_json"}, {})
                return
            status, body, headers = emulator.handle_api(method, params, self.headers.get("Authorization"))
            self._json(status, body, headers)

        def _json(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

        def _send(
            self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
