"""Socket Mode (`accessbot socket`): Bolt's handler, with what the HTTP edge (bot/slack/edge.py) does
that applies to a request arriving on a WebSocket.

- Shape: the payload must fit the envelope of its request type, as over HTTP, and its strings are
  cleaned, before Bolt sees it. A payload that does not fit is acknowledged (so that Slack does not send
  it again) and not acted on, and logged as one fixed line.
- Replays: an event is known by its event_id, anything else by its envelope id; the responder takes
  each in once (bot/services/replays.py).
- Metrics: each request is counted by surface and outcome and timed, as over HTTP
  (bot/request_metrics.py); the outcome follows from Bolt's status as an HTTP one would.

The size and signature checks do not apply: Slack sends on the connection the app opened with its
app-level token (https://api.slack.com/apis/socket-mode).
"""

from __future__ import annotations

import logging
import time

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_bolt.request import BoltRequest
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.request_metrics import SLACK_OUTCOMES, record
from bot.slack.edge import Refused, noted_rate_limit, socket_payload, socket_replay_key, surface_of
from bot.slack.responder import mark_arrival, mark_checked

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(SocketModeHandler):
    """SocketModeHandler whose every request goes through the checks above before Bolt dispatches it."""

    def handle(self, connection: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Check, dispatch and acknowledge one request (Slack's `envelope_id` names it) on `connection`,
        the Socket Mode client it came by."""
        mark_arrival()
        started = time.perf_counter()
        surface, outcome = "unknown", SLACK_OUTCOMES[400]
        try:
            try:
                payload = socket_payload(req.type, req.payload)
            except Refused as refused:
                log.warning("refused a Socket Mode request: %s", refused.reason)
                return _acknowledge(connection, req)
            surface = surface_of(payload)
            if noted_rate_limit(payload):
                outcome = SLACK_OUTCOMES[200]
                return _acknowledge(connection, req)
            mark_checked(*socket_replay_key(payload, req.envelope_id, time.time()))
            request = BoltRequest(mode="socket_mode", body=payload, headers=build_headers(req))
            response = self.app.dispatch(request)
            outcome = SLACK_OUTCOMES.get(response.status, f"http_{response.status}")
            send_response(connection, req, response, time.time())
        finally:
            record(surface, outcome, time.perf_counter() - started)


def _acknowledge(connection: BaseSocketModeClient, req: SocketModeRequest) -> None:
    """An empty acknowledgement: taken in, nothing to say (and nothing done)."""
    connection.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
