"""An in-process stand-in for Slack, for the demo and the tests.

``SlackEmulator`` is a stateful fake of the Slack Web API served over real HTTP (point
``slack_sdk.WebClient(base_url=emulator.url)`` at it); ``SlackDriver`` sends the bot signed requests
the way Slack does (slash commands, clicks, modal submissions). They live in the package because
``accessbot demo`` runs them in-process to show the bot working without a Slack workspace. The test
suite extends both (tests/support/slack: fault injection, inspection, events and shortcuts) through
the emulator's extension points (``SlackEmulator.before_call`` and ``intercept``).
"""

from .driver import Reply, SlackDriver
from .limits import check_message, check_update_text, check_view
from .server import Call, Intercept, SlackEmulator
from .text import block_texts, blocks_to_text, message_to_text

__all__ = [
    "Call",
    "Intercept",
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
