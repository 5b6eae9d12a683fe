"""A webhook receiver for the tests: a small HTTP server that verifies each delivery's Standard Webhooks
signature with the `standardwebhooks` library (as a real receiver would), de-duplicates by `webhook-id`,
and checks that each subject's events arrive in version order.

It answers 204 to a delivery it accepts and 401 to a bad signature; `fail_next(n, status)` makes it
answer the next n deliveries with `status` instead (a receiver outage), without recording them.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    """A fresh signing secret in the form receivers are given: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass
class Received:
    webhook_id: str
    type: str
    data: dict[str, Any]

    @property
    def subject(self) -> str:
        for kind in ("grant", "licence", "directive"):
            if kind in self.data:
                return f"{kind}:{self.data[kind]['id']}"
        raise AssertionError(f"no subject in {self.data}")


@dataclass
class WebhookReceiver:
    """Start with start(); `url` is where to send. `events` are the accepted deliveries, duplicates
    (the same webhook-id again) left out and counted in `duplicates`; `problems` lists every bad
    signature and every event that arrived after a later version of its subject."""

    secret: str = field(default_factory=new_secret)
    events: list[Received] = field(default_factory=list)
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    _versions: dict[str, int] = field(default_factory=dict)
    _failing: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookReceiver:
        verifier = Webhook(self.secret)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._take(verifier, raw, {k: v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failing.extend([status] * count)

    def _take(self, verifier: Webhook, raw: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            if self._failing:
                return self._failing.pop(0)
            try:
                payload = verifier.verify(raw, headers)
            except WebhookVerificationError as error:
                self.problems.append(f"bad signature: {error}")
                return 401
            webhook_id = headers.get("webhook-id") or headers.get("Webhook-Id") or ""
            if any(e.webhook_id == webhook_id for e in self.events):
                self.duplicates += 1
                return 204
            event = Received(webhook_id, payload["type"], payload["data"])
            version = int(event.data["version"])
            last = self._versions.get(event.subject, 0)
            if version <= last:
                self.problems.append(f"{event.subject} v{version} arrived after v{last}")
            self._versions[event.subject] = max(last, version)
            self.events.append(event)
            return 204

    def of(self, subject: str) -> list[tuple[int, str]]:
        """(version, type) of the subject's events, as received."""
        with self._lock:
            return [(int(e.data["version"]), e.type) for e in self.events if e.subject == subject]

    def as_json(self) -> str:
        with self._lock:
            return json.dumps([e.__dict__ for e in self.events], indent=1)
