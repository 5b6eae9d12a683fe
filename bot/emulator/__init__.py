"""An in-process stand-in for Slack, for the demo and the tests.

``SlackEmulator`` is a stateful fake of the Slack Web API served over real HTTP (point
``slack_sdk.WebClient(base_url=emulator.url)`` at it); ``SlackDriver`` sends the bot signed requests
the way Slack does (slash commands, clicks, modal submissions, events). It lives in the package, not
only in the tests, because ``accessbot demo`` runs it in-process to show the bot working without a
Slack workspace; the end-to-end tests drive the real ``accessbot serve`` through the same two classes.
"""

from .driver import Reply, SlackDriver
from .limits import check_message, check_update_text, check_view
from .server import Call, SlackEmulator
from .text import block_texts, blocks_to_text, message_to_text

__all__ = [
    "Call",
    "Reply",
    "SlackDriver",
    "SlackEmulator",
    "block_texts",
    "blocks_to_text",
    "check_message",
    "check_update_text",
    "check_view",
    "message_to_text",
]
