"""Fixtures: a running emulator with a small workspace, and a real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from tests.support.slack import SlackEmulator


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(trigger_ttl=3.0) as emulator:
        emulator.add_user("U0ALICE", "alice", "alice@example.com", "Alice Adams")
        emulator.add_user("U0BOB", "bob", "Bob@Example.com", "Bob Brown")
        emulator.add_user("U0GONE", "gone", "gone@example.com", deleted=True)
        emulator.add_user("U0NOTAB", "notab", "notab@example.com", messages_tab=False)
        emulator.add_channel("C0GENERAL", "general")
        emulator.add_channel("C0SECRET", "secret", is_private=True, bot_is_member=False)
        emulator.add_channel("C0OLD", "old", is_archived=True)
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(base_url=emu.url, token=emu.bot_token)
