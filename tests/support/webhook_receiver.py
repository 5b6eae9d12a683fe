"""A webhook receiver for the tests: a small HTTP server that verifies each delivery's Standard Webhooks
signature with the `standardwebhooks` library (as a real receiver would), de-duplicates by `webhook-id`,
and checks that each subject's events arrive in version order.

It answers 204 to a delivery it accepts and 401 to a bad signature; `fail_next(n, status)` makes it
answer the next n deliveries with `status` instead (a receiver outage), without recording them.
`hold_after(n)` answers the next n deliveries and then takes each later one but keeps its answer back
until `release()`: a receiver that acted on an event while its sender never heard back, which is how a
test kills the sender while deliveries are certainly in flight (tests/e2e/test_webhooks_crash.py).
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.bot_server import FIXTURES


def new_secret() -> str:
    """A fresh signing secret in the form receivers are given: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def workflows_with(tmp_path: Path, receiver_url: str) -> Path:
    """A copy of the fixture workflows with one receiver, `scim-bridge` (its secret is the setting
    ACCESSBOT_WEBHOOK_SECRET_SCIM_BRIDGE), subscribed to every event."""
    workflows = tmp_path / "workflows"
    shutil.copytree(FIXTURES / "workflows", workflows)
    (workflows / "webhooks.yaml").write_text(
        f"receivers:\n  - name: scim-bridge\n    url: {receiver_url}\n    events: ['*']\n", encoding="utf-8"
    )
    return workflows


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
    (the same webhook-id again) left out and counted in `duplicates`, their ids in `redelivered`;
    `problems` lists every bad signature and every event that arrived after a later version of its
    subject. `arrivals` lists (subject, version, webhook-id) of every signed delivery as it came,
    duplicates included; `held` are the webhook-ids taken while answers are held back (hold_after)."""

    secret: str = field(default_factory=new_secret)
    events: list[Received] = field(default_factory=list)
    duplicates: int = 0
    redelivered: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    arrivals: list[tuple[str, int, str]] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    _versions: dict[str, int] = field(default_factory=dict)
    _failing: list[int] = field(default_factory=list)
    _answer_before_holding: int | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookReceiver:
        verifier = Webhook(self.secret)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request: nothing arrived, nobody to answer
                    self.close_connection = True
                    return
                status, hold = receiver._take(verifier, raw, {k: v for k, v in self.headers.items()})
                if hold:
                    receiver._released.wait()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender is gone (killed while this answer was held back)
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failing.extend([status] * count)

    def hold_after(self, count: int) -> None:
        """Answer the next `count` deliveries as usual, then take each later one (verify, record) but
        hold its answer back until release()."""
        with self._lock:
            self._answer_before_holding = count
            self._released.clear()

    def release(self) -> None:
        """Send the answers held back, and hold no more."""
        with self._lock:
            self._answer_before_holding = None
            self._released.set()

    def held_count(self) -> int:
        with self._lock:
            return len(self.held)

    def _take(self, verifier: Webhook, raw: bytes, headers: dict[str, str]) -> tuple[int, bool]:
        """The answer to one delivery, and whether to hold it back until release()."""
        with self._lock:
            if self._failing:
                return self._failing.pop(0), False
            try:
                payload = verifier.verify(raw, headers)
            except WebhookVerificationError as error:
                self.problems.append(f"bad signature: {error}")
                return 401, False
            webhook_id = headers.get("webhook-id") or headers.get("Webhook-Id") or ""
            event = Received(webhook_id, payload["type"], payload["data"])
            version = int(event.data["version"])
            self.arrivals.append((event.subject, version, webhook_id))
            if any(e.webhook_id == webhook_id for e in self.events):
                self.duplicates += 1
                self.redelivered.append(webhook_id)
            else:
                last = self._versions.get(event.subject, 0)
                if version <= last:
                    self.problems.append(f"{event.subject} v{version} arrived after v{last}")
                self._versions[event.subject] = max(last, version)
                self.events.append(event)
            hold = self._answer_before_holding is not None and self._answer_before_holding <= 0
            if hold:
                self.held.append(webhook_id)
            elif self._answer_before_holding is not None:
                self._answer_before_holding -= 1
            return 204, hold

    def of(self, subject: str) -> list[tuple[int, str]]:
        """(version, type) of the subject's events, as received."""
        with self._lock:
            return [(int(e.data["version"]), e.type) for e in self.events if e.subject == subject]

    def as_json(self) -> str:
        with self._lock:
            return json.dumps([e.__dict__ for e in self.events], indent=1)
