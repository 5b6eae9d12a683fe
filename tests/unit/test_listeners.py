"""Slack listeners called directly, without Bolt or HTTP: payload dicts as Bolt passes them, a recording
`ack`, and a real Context on a SQLite file. Assertions are on what the person sees (the ack) and on
the stored state (requests, decisions, the outbox), never on which calls were made."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel, select

from bot.domain.status import OutboxKind, RequestStatus, StepStatus
from bot.render import Renderer
from bot.services import requests
from bot.services.context import Context
from bot.services.directory import import_directory
from bot.slack import ids
from bot.slack.actions import ActionListeners
from bot.slack.commands import CommandListeners
from bot.slack.responder import Responder
from bot.slack.surfaces import Surfaces
from bot.slack.views import ViewListeners
from bot.store.db import Database
from bot.store.tables import AccessRequest, Decision, OutboxMessage, RequestStep
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES, REPO
from tests.support.seed import DIRECTORY

ALICE = "U0ALICE01"
MARIA = "U0MARIA01"  # Alice's manager: the first approval step of her requests
WHY = "Evaluating summarisation quality for the quarterly research report"
RESPONSE_URL = "https://hooks.slack.com/actions/T0TEAM001/1/abc"


class RecordingAck:
    """Stands in for Bolt's `ack`: keeps what the listener answered Slack with."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []

    def __call__(self, **answer: Any) -> None:
        self.answers.append(answer)

    @property
    def only(self) -> dict[str, Any]:
        assert len(self.answers) == 1, f"acked {len(self.answers)} times"
        return self.answers[0]


@pytest.fixture
def surfaces(tmp_path: Path) -> Iterator[Surfaces]:
    db = Database(f"sqlite:///{tmp_path / 'accessbot.db'}", pool=False)
    SQLModel.metadata.create_all(db.engine)
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"))
    import_directory(ctx, DIRECTORY, actor="test")
    responder = Responder(ctx, Renderer(REPO / "templates"), workers=1)
    try:
        yield Surfaces(ctx, responder)
    finally:
        responder.shutdown()
        db.dispose()


def settle(surfaces: Surfaces) -> None:
    """Wait for the work listeners hand to the responder after their ack."""
    surfaces.responder.shutdown()


def outbox(surfaces: Surfaces) -> list[OutboxMessage]:
    with surfaces.ctx.read() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def stored_requests(surfaces: Surfaces) -> list[AccessRequest]:
    with surfaces.ctx.read() as session:
        return list(session.exec(select(AccessRequest)).all())


def slash(text: str, user_id: str = ALICE) -> dict[str, Any]:
    return {
        "command": ids.ACCESS_COMMAND,
        "text": text,
        "user_id": user_id,
        "team_id": "T0TEAM001",
        "channel_id": "C0GENERAL1",
        "trigger_id": "1.2.trigger",
        "response_url": "https://hooks.slack.com/commands/T0TEAM001/1/xyz",
    }


def click(action_id: str, value: str, user_id: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user_id},
        "trigger_id": "1.2.trigger",
        "response_url": RESPONSE_URL,
        "container": {"type": "message"},
        "actions": [{"action_id": action_id, "block_id": "decide", "type": "button", "value": value}],
    }


def request_form(user_id: str, model: str | None, justification: str) -> dict[str, Any]:
    values: dict[str, dict[str, dict[str, Any]]] = {
        ids.REQUEST_JUSTIFICATION_BLOCK: {
            ids.REQUEST_JUSTIFICATION_ACTION: {"type": "plain_text_input", "value": justification}
        },
        ids.REQUEST_DURATION_BLOCK: {ids.REQUEST_DURATION_ACTION: {"type": "static_select"}},
    }
    if model is not None:
        selected = {"selected_option": {"value": model, "text": {"type": "plain_text", "text": model}}}
        values[ids.REQUEST_MODEL_BLOCK] = {ids.REQUEST_MODEL_ACTION: {"type": "static_select", **selected}}
    return {
        "type": "view_submission",
        "user": {"id": user_id},
        "view": {"callback_id": ids.REQUEST_VIEW, "private_metadata": "", "state": {"values": values}},
    }


def test_access_help_is_answered_in_the_ack(surfaces: Surfaces) -> None:
    ack = RecordingAck()
    CommandListeners(surfaces).access(ack, slash("help"), client=None, context={})  # type: ignore[arg-type]
    answer = ack.only
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "How to use /access"
    shown = str(answer["blocks"])
    assert "/access request" in shown
    assert "Admins:" not in shown  # Alice is no access admin
    assert outbox(surfaces) == []  # nothing left to say later


@pytest.mark.parametrize(
    ("user_id", "shows"),
    [(ALICE, ()), ("U0CARLA01", ("/licence",)), ("U0ADMIN01", ("Admins:", "/directive", "/licence"))],
)
def test_access_help_names_the_commands_of_the_persons_roles(
    surfaces: Surfaces, user_id: str, shows: tuple[str, ...]
) -> None:
    """Export compliance is told of `/licence`, access admins of `/directive` and `/licence` too; a
    member of neither role sees neither."""
    ack = RecordingAck()
    CommandListeners(surfaces).access(ack, slash("help", user_id), client=None, context={})  # type: ignore[arg-type]
    shown = str(ack.only["blocks"])
    for command in ("Admins:", "/directive", "/licence"):
        assert (command in shown) == (command in shows), (command, shown)


def test_the_help_example_files_a_request_when_typed_as_shown(surfaces: Surfaces) -> None:
    ack = RecordingAck()
    CommandListeners(surfaces).access(ack, slash("help"), client=None, context={})  # type: ignore[arg-type]
    shown = str(ack.only["blocks"])
    example = re.search(r"e\.g\. `/access (request [^`]+)`", shown)
    assert example is not None, shown
    ack = RecordingAck()
    CommandListeners(surfaces).access(ack, slash(example.group(1)), client=None, context={})  # type: ignore[arg-type]
    assert len(stored_requests(surfaces)) == 1, ack.only


def test_access_request_files_the_request_and_says_so_in_the_ack(surfaces: Surfaces) -> None:
    ack = RecordingAck()
    CommandListeners(surfaces).access(ack, slash(f"request lumen-3 {WHY}"), client=None, context={})  # type: ignore[arg-type]
    answer = ack.only
    assert answer["response_type"] == "ephemeral"
    (filed,) = stored_requests(surfaces)
    assert filed.requester_id == ALICE and filed.model == "lumen-3"
    assert filed.status == RequestStatus.PENDING
    assert f"R{filed.id}" in answer["text"] + str(answer["blocks"])


def test_an_unreadable_subcommand_is_refused_in_the_ack(surfaces: Surfaces) -> None:
    ack = RecordingAck()
    CommandListeners(surfaces).access(ack, slash("frobnicate now"), client=None, context={})  # type: ignore[arg-type]
    assert ack.only["response_type"] == "ephemeral"
    assert "frobnicate" in ack.only["text"] + str(ack.only["blocks"])
    assert stored_requests(surfaces) == []


@pytest.mark.parametrize("value", ["", "R1:0", "1", "1:first", "1:0:0", "99999999999999999999:0"])
def test_an_approve_click_with_a_malformed_value_is_refused_and_decides_nothing(
    surfaces: Surfaces, value: str
) -> None:
    filed = requests.submit_request(
        surfaces.ctx, requester_id=ALICE, model_slug="lumen-3", duration=None, justification=WHY
    )
    queued = len(outbox(surfaces))
    ack = RecordingAck()
    ActionListeners(surfaces).approve(ack, click(ids.APPROVE_ACTION, value, MARIA), context={})
    settle(surfaces)

    assert ack.only == {}  # the click is acknowledged at once; the answer follows under the message
    with surfaces.ctx.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
        steps = session.exec(select(RequestStep).where(RequestStep.request_id == filed.subject_id)).all()
        decisions = session.exec(select(Decision)).all()
    assert request is not None and request.status == RequestStatus.PENDING
    assert all(step.status != StepStatus.APPROVED for step in steps)
    assert decisions == []
    (reply,) = outbox(surfaces)[queued:]
    assert reply.kind == OutboxKind.RESPOND and reply.address == RESPONSE_URL
    assert "not one of mine" in str(reply.payload)


def test_the_request_form_without_a_model_shows_the_error_on_the_model_field(surfaces: Surfaces) -> None:
    ack = RecordingAck()
    ViewListeners(surfaces).request_submitted(ack, request_form(ALICE, None, WHY), context={})
    assert ack.only == {"response_action": "errors", "errors": {ids.REQUEST_MODEL_BLOCK: "Choose a model."}}
    assert stored_requests(surfaces) == []


def test_a_short_justification_is_shown_on_the_justification_field(surfaces: Surfaces) -> None:
    ack = RecordingAck()
    ViewListeners(surfaces).request_submitted(ack, request_form(ALICE, "lumen-3", "too short"), context={})
    answer = ack.only
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [ids.REQUEST_JUSTIFICATION_BLOCK]
    error = answer["errors"][ids.REQUEST_JUSTIFICATION_BLOCK]
    assert "too short" in error and "*" not in error and "`" not in error  # modal errors are plain text
    assert stored_requests(surfaces) == []
    assert outbox(surfaces) == []  # refused in the form: no DM as well
