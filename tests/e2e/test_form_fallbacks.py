"""When Slack refuses to open the request form, the person is told how to file anyway.

A trigger_id lives about 3 seconds; a slow moment, and views.open answers `expired_trigger_id`. From
the global shortcut or the App Home button the person then clicked and saw nothing, so the bot DMs
them: try again, or file with `/access request`. From `/access` the answer goes back in place (its
response_url) and no DM is added.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.slack import ids
from tests.support.app import InProcessBot
from tests.support.bot_server import BOT_TOKEN
from tests.support.cli import listed
from tests.support.seed import add_directory_users
from tests.support.slack import SlackDriver, SlackEmulator

ALICE = "U0ALICE01"
DID_NOT_OPEN = "The request form did not open"


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[SlackEmulator]:
    """The usual emulator; parametrized indirectly with a trigger lifetime to make triggers expire."""
    emu = SlackEmulator(bot_token=BOT_TOKEN, trigger_ttl=getattr(request, "param", 3.0))
    emu.start()
    add_directory_users(emu)
    try:
        yield emu
    finally:
        emu.stop()


def fallback_dms(emulator: SlackEmulator, user: str) -> list[str]:
    return [text for text in emulator.dm_texts(user) if DID_NOT_OPEN in text]


def assert_told_how_to_file(text: str) -> None:
    assert "again" in text
    assert "`/access request &lt;model&gt; &lt;why you need it&gt;`" in text  # shown as <model>


@pytest.mark.parametrize("emulator", [0.0], indirect=True)  # every trigger has expired on arrival
def test_shortcut_with_an_expired_trigger_dms_how_to_file(
    slack: SlackDriver, emulator: SlackEmulator
) -> None:
    reply = slack.shortcut(ALICE, ids.REQUEST_SHORTCUT)
    assert reply.status == 200
    [text] = emulator.wait_for(lambda: fallback_dms(emulator, ALICE))
    assert_told_how_to_file(text)
    assert emulator.views_opened(ALICE) == []


def test_home_button_when_slack_refuses_the_form_dms_and_the_next_click_opens_it(
    slack: SlackDriver, emulator: SlackEmulator
) -> None:
    slack.app_home_opened(ALICE)
    emulator.wait_for(lambda: emulator.home(ALICE))
    emulator.fail_next("views.open", status=200, error="expired_trigger_id")
    slack.click_button_in_view(ALICE, "home", ids.HOME_REQUEST_ACTION)
    [text] = emulator.wait_for(lambda: fallback_dms(emulator, ALICE))
    assert_told_how_to_file(text)
    assert emulator.views_opened(ALICE) == []

    # Trying the button again, as the DM suggests, works.
    slack.click_button_in_view(ALICE, "home", ids.HOME_REQUEST_ACTION)
    view = emulator.wait_for(lambda: emulator.views_opened(ALICE))[-1]
    assert view["callback_id"] == ids.REQUEST_VIEW
    assert len(fallback_dms(emulator, ALICE)) == 1


def test_shortcut_when_slack_fails_dms_how_to_file(slack: SlackDriver, emulator: SlackEmulator) -> None:
    emulator.fail_next("views.open", status=500, error="internal_error")
    slack.shortcut(ALICE, ids.REQUEST_SHORTCUT)
    [text] = emulator.wait_for(lambda: fallback_dms(emulator, ALICE))
    assert_told_how_to_file(text)


@pytest.mark.parametrize("emulator", [0.0], indirect=True)
def test_slash_command_answers_in_place_and_sends_no_dm(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    reply = slack.command(ALICE, "")
    assert reply.status == 200
    posted = emulator.wait_for(lambda: emulator.responses(reply.response_url))
    assert "could not open the request form" in posted[0]["body"]["text"]
    # A DM would have been queued before that answer was sent: nothing is queued for Alice.
    assert [m for m in listed(server, "outbox") if m["to"] == ALICE] == []
    assert emulator.dm_texts(ALICE) == []


@pytest.mark.parametrize(
    ("user", "command"),
    [("U0ADMIN01", ids.DIRECTIVE_COMMAND), ("U0CARLA01", ids.LICENCE_COMMAND)],
)
def test_role_forms_that_slack_refuses_to_open_say_so_in_place(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, user: str, command: str
) -> None:
    """`/directive` (access admin) and `/licence` (export compliance): the role check passes, Slack then
    refuses views.open, and the answer goes back through the command's response_url; running the command
    again, as it says, opens the form."""
    emulator.fail_next("views.open", status=200, error="expired_trigger_id")
    reply = slack.command(user, "", command=command)
    assert reply.status == 200
    posted = emulator.wait_for(lambda: emulator.responses(reply.response_url))
    assert f"I could not open the form in time; please run `{command}` again." in posted[0]["body"]["text"]
    assert emulator.views_opened(user) == []
    assert [m for m in listed(server, "outbox") if m["to"] == user] == []

    slack.command(user, "", command=command)
    [view] = emulator.wait_for(lambda: emulator.views_opened(user))
    assert view["callback_id"] == (
        ids.DIRECTIVE_VIEW if command == ids.DIRECTIVE_COMMAND else ids.LICENCE_VIEW
    )
