"""When the outbox cannot take a reply (its database is down after the holding "Working on it" ack),
the person still gets the answer: it goes to Slack directly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.present.replies import Notice
from bot.render import Renderer
from bot.services.context import Context
from bot.slack.responder import Responder
from bot.store.db import Database
from bot.workflows import load_catalog
from tests.integration.workspace import ALICE, GENERAL, TOKEN
from tests.support.bot_server import FIXTURES, REPO
from tests.support.slack import SlackEmulator


@pytest.fixture
def responder(tmp_path: Path, emu: SlackEmulator) -> Iterator[Responder]:
    # A database that cannot be opened: every transaction fails, as in an outage.
    down = Database(f"sqlite:///{tmp_path / 'missing' / 'accessbot.db'}", pool=False)
    ctx = Context(db=down, catalog=load_catalog(FIXTURES / "workflows"))
    client = WebClient(base_url=emu.url, token=TOKEN)
    made = Responder(ctx, Renderer(REPO / "templates"), workers=1, client=client)
    try:
        yield made
    finally:
        made.shutdown()
        down.dispose()


def test_a_reply_the_outbox_cannot_take_goes_to_the_response_url(
    responder: Responder, emu: SlackEmulator
) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    responder.respond_later(url, Notice("Something went wrong with <!channel>.", tone="error"), user_id=ALICE)
    [response] = emu.responses(url)
    assert response["body"]["response_type"] == "ephemeral"
    assert [e["text"] for e in emu.ephemerals(ALICE)] == ["Something went wrong with &lt;!channel&gt;."]


def test_a_dm_the_outbox_cannot_take_is_sent_directly(responder: Responder, emu: SlackEmulator) -> None:
    responder.tell(ALICE, Notice("The form closed before I could answer."))
    assert [m["text"] for m in emu.messages(ALICE)] == ["The form closed before I could answer."]
