"""The peer for ack latency: a Bolt app that only acks `/access`, on the same waitress server settings as
`accessbot serve`. Run as `python -m benchmarks.bare_bolt PORT SIGNING_SECRET`."""

from __future__ import annotations

import sys
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from waitress import serve


def main() -> None:
    port, secret = int(sys.argv[1]), sys.argv[2]
    app = App(
        signing_secret=secret,
        client=WebClient(token="xoxb-bare"),
        # No Slack to ask: the identity is fixed, as `accessbot serve` fixes it at start.
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0ACCESS", bot_user_id="U0BARE", bot_token="xoxb-bare"
        ),
    )

    @app.command("/access")
    def access(ack: Any) -> None:
        ack(response_type="ephemeral", text="ok")

    serve(SlackRequestHandler(app), host="127.0.0.1", port=port, threads=32, _quiet=True)


if __name__ == "__main__":
    main()
