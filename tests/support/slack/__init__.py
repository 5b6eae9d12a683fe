"""The Slack emulator as the tests use it: the shipped ``bot.emulator`` plus what only tests need.

``SlackEmulator`` adds fault injection (rate limits, failures, hangs, latency; ``faults.py``) and
inspection (ephemerals, response URL posts, modal stacks, Home tabs, warnings) and lets a test change
the workspace or its clock mid-run. ``SlackDriver`` adds Events API deliveries, shortcuts, options
requests and clicks in ephemeral messages, modals and Home tabs.
"""

from bot.emulator import Call, Reply

from .driver import SlackDriver
from .emulator import SlackEmulator

__all__ = ["Call", "Reply", "SlackDriver", "SlackEmulator"]
