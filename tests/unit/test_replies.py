"""Messages as data: notices in plain text shown as escaped mrkdwn, and the JSON form the outbox stores
(a template and its data) that the notifier renders when it sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.present.replies import Notice, Person, Screen, from_stored, screen_of, to_stored
from bot.render import Renderer
from tests.support.bot_server import REPO

RENDERER = Renderer(REPO / "templates")

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.datetimes(timezones=st.just(UTC))
    | st.datetimes()
)
template_data = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), template_data, max_size=6))
def test_stored_data_comes_back_as_it_was_queued(data: dict[str, object]) -> None:
    stored = to_stored(Screen("grant_update", data))
    # What the outbox column holds is plain JSON.
    again = json.loads(json.dumps(stored))
    assert from_stored(again) == Screen("grant_update", data)


def test_a_datetime_keeps_its_instant_and_zone() -> None:
    moment = datetime(2026, 11, 30, 21, 5, tzinfo=UTC) + timedelta(microseconds=7)
    screen = from_stored(json.loads(json.dumps(to_stored(Screen("x", {"at": moment, "list": [moment]})))))
    assert screen.data["at"] == moment and screen.data["at"].tzinfo is not None
    assert screen.data["list"] == [moment]


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", timedelta(days=1)])
def test_data_json_cannot_hold_is_refused_when_queued(value: object) -> None:
    with pytest.raises(TypeError, match="cannot be stored"):
        to_stored(Screen("x", {"value": value}))


def test_a_notice_is_stored_as_the_notice_template() -> None:
    stored = to_stored(Notice("Done <now>", title="T", tone="success"))
    assert stored == {
        "template": "notice",
        "data": {"title": "T", "body": "Done &lt;now&gt;", "tone": "success"},
    }


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U0ADMIN01>", "&lt;@U0ADMIN01&gt;"),
        ("<https://evil.example|R12>", "&lt;https://evil.example|R12&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
    ],
)
def test_notice_text_and_values_are_escaped_for_mrkdwn(typed: str, shown: str) -> None:
    assert Notice(f"Model {typed}.").mrkdwn() == f"Model {shown}."
    assert Notice("Model {m}.", values={"m": typed}).mrkdwn() == f"Model {shown}."
    rendered = RENDERER.reply(Notice("Model {m}.", values={"m": typed}))
    assert shown in json.dumps(rendered) and typed not in json.dumps(rendered)


def test_a_person_in_a_notice_is_a_mention() -> None:
    notice = Notice(
        "Revoked {grant}, held by {holder}.", values={"grant": "G7", "holder": Person("U0ALICE01")}
    )
    assert notice.mrkdwn() == "Revoked G7, held by <@U0ALICE01>."
    # Only a Slack user ID becomes a mention: anything else is shown as nobody in particular.
    assert "<@" not in Notice("by {who}", values={"who": Person("<!here>")}).mrkdwn()


def test_braces_in_a_value_are_not_fields() -> None:
    assert Notice("Model {m}.", values={"m": "{holder}"}).mrkdwn() == "Model {holder}."


def test_a_screen_is_its_own_template_and_a_notice_renders_with_the_notice_template() -> None:
    assert screen_of(Screen("help", {"a": 1})) == Screen("help", {"a": 1})
    message = RENDERER.reply(Notice("Saved.", title="Done", tone="success"))
    assert message["text"] == "Done: Saved."
