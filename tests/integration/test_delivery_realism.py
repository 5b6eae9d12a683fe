"""The sender against what Slack really does: response URLs that die after 30 minutes or 5 uses, DMs that
Slack accepts for people who have left, and App Home publishes guarded by the view hash."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Integer, String, literal
from sqlmodel import col, select

from bot.domain.status import OutboxKind
from bot.notify import outbox
from bot.notify.accounts import ACCOUNT_DEACTIVATED
from bot.notify.history import METADATA_EVENT
from bot.notify.sender import Sender, sender_client
from bot.store import accounts
from bot.store.db import Database
from bot.store.tables import AuditEvent, HomeTab, OutboxMessage, SlackAccount
from bot.store.types import utcnow
from tests.integration.workspace import ALICE, BORIS, GENERAL, TOKEN
from tests.support.outbox import raw, render_raw
from tests.support.slack import SlackEmulator

CLIENT_TIMEOUT = 1.0


class Clock:
    """Real time plus a shift that a test moves forward: rows still come due, and ages can jump."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.shift

    def advance(self, **delta: float) -> None:
        self.shift += timedelta(**delta)


class Composer:
    """Renders a Home view per row, numbered so that a test can tell renders apart; a message queued
    with `raw` renders as exactly that message."""

    def __init__(self) -> None:
        self.renders: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, row: OutboxMessage) -> dict[str, Any]:
        if "template" in row.payload:
            return render_raw(row)
        assert row.payload["compose"] == "home"
        with self._lock:
            self.renders.append(row.id or 0)
            n = len(self.renders)
        text = f"Your access (render {n})"
        return {
            "view": {
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            }
        }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def composer() -> Composer:
    return Composer()


@pytest.fixture
def sender(db: Database, emu: SlackEmulator, clock: Clock, composer: Composer) -> Iterator[Sender]:
    made = Sender(
        db,
        sender_client(emu.url, TOKEN, CLIENT_TIMEOUT),
        workers=4,
        lease_seconds=10.0,
        poll_seconds=0.05,
        clock=clock,
        composer=composer,
    )
    yield made
    made.stop()


def drained(sender: Sender, timeout: float = 15.0) -> None:
    assert sender.drain(timeout=timeout), "the outbox still has undelivered messages"


def row(db: Database, outbox_id: int | None) -> OutboxMessage:
    with db.read() as session:
        found = session.get(OutboxMessage, outbox_id)
    assert found is not None
    return found


def respond(db: Database, url: str, message: dict[str, Any], user_id: str | None) -> int:
    with db.uow() as uow:
        queued = outbox.respond(uow.session, url, raw(message), user_id=user_id, replace_original=True)
        uow.commit()
    assert queued.id is not None
    return queued.id


def post(db: Database, address: str, text: str, *, check_account: bool = False) -> int:
    with db.uow() as uow:
        queued = outbox.post(uow.session, address, raw({"text": text}), check_account=check_account)
        uow.commit()
    assert queued.id is not None
    return queued.id


def outbox_id_of(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    assert metadata.get("event_type") == METADATA_EVENT
    return metadata["event_payload"]["outbox_id"]


def account(db: Database, user_id: str) -> SlackAccount | None:
    with db.read() as session:
        return session.get(SlackAccount, user_id)


BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*R7* was approved by Boris"}}]


# -- response URLs ----------------------------------------------------------------------------------


def test_a_reply_whose_response_url_is_over_30_minutes_old_goes_to_the_person_by_dm(
    db: Database, emu: SlackEmulator, sender: Sender, clock: Clock
) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    reply = respond(db, url, {"text": "R7 was approved", "blocks": BLOCKS}, user_id=ALICE)
    clock.advance(minutes=31)

    drained(sender)

    assert emu.responses(url) == []  # not even tried: Slack would refuse it
    [message] = emu.messages(ALICE)
    assert (message["text"], message["blocks"][0]["text"]["text"]) == (
        "R7 was approved",
        "*R7* was approved by Boris",
    )
    assert outbox_id_of(message) == reply
    sent = row(db, reply)
    assert (sent.status, sent.sent_channel, sent.sent_ts, sent.attempts) == (
        "sent",
        emu.dm_channel_id(ALICE),
        message["ts"],
        1,
    )
    assert emu.ephemerals() == []


@pytest.mark.parametrize("refusal", ["expired_url", "used_url"])
def test_a_reply_slack_refuses_as_expired_or_used_up_goes_by_dm(
    db: Database, emu: SlackEmulator, sender: Sender, refusal: str
) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    if refusal == "expired_url":
        emu.advance(31 * 60)  # Slack's clock says 31 minutes; ours thinks the URL is fresh
    else:
        for n in range(5):  # the person's five earlier answers used the URL up
            _post_to(url, {"text": f"answer {n}"})
    reply = respond(db, url, {"text": "R7 was approved"}, user_id=ALICE)

    drained(sender)

    assert [(r["status"], r["answer"]) for r in emu.responses(url)][-1] == (404, refusal)
    assert emu.dm_texts(ALICE) == ["R7 was approved"]
    sent = row(db, reply)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)


def test_a_reply_by_dm_that_reached_slack_before_a_timeout_is_not_sent_twice(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    emu.advance(31 * 60)
    emu.hang_next("chat.postMessage", seconds=CLIENT_TIMEOUT + 1.5, apply=True)
    reply = respond(db, url, {"text": "R7 was approved"}, user_id=ALICE)

    drained(sender)

    assert emu.dm_texts(ALICE) == ["R7 was approved"]
    assert len(emu.calls("chat.postMessage")) == 1
    assert emu.calls("conversations.history")
    assert row(db, reply).status == "sent"


def test_a_dead_response_url_without_a_person_to_dm_fails_once(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    emu.advance(31 * 60)
    reply = respond(db, url, {"text": "R7 was approved"}, user_id=None)

    drained(sender)

    failed = row(db, reply)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "http_404: expired_url")
    assert emu.calls() == []


def test_a_reply_slack_rejects_as_malformed_is_not_resent_by_dm(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    reply = respond(db, url, {"text": "R7 was approved", "blocks": too_long}, user_id=ALICE)

    drained(sender)

    failed = row(db, reply)
    assert (failed.status, failed.last_error) == ("failed", "http_400: invalid_blocks")
    assert emu.messages(ALICE) == [] and emu.calls("chat.postMessage") == []


# -- people who left --------------------------------------------------------------------------------


def test_slack_accepts_a_dm_to_a_deactivated_person_so_the_sender_must_know_better(
    db: Database, emu: SlackEmulator, sender: Sender, clock: Clock
) -> None:
    emu.set_user(ALICE, deleted=True)
    unchecked = post(db, ALICE, "Your access ends tomorrow")
    drained(sender)
    assert row(db, unchecked).status == "sent"  # Slack took it; nobody will read it
    assert any(f"{ALICE} is deactivated" in w for w in emu.warnings)

    with db.uow() as uow:  # what the user_change event records
        accounts.record(uow.session, ALICE, deleted=True, now=clock())
        uow.commit()
    emu.reset_calls()
    skipped = post(db, ALICE, "Your access has ended")
    channel = post(db, GENERAL, "Mythos 5 is suspended")
    drained(sender)

    failed = row(db, skipped)
    assert (failed.status, failed.last_error, failed.sent_ts) == ("failed", ACCOUNT_DEACTIVATED, None)
    assert [c.params["channel"] for c in emu.calls()] == [GENERAL]
    assert row(db, channel).status == "sent"


def test_a_broadcast_dm_to_someone_who_left_is_not_sent_either(
    db: Database, emu: SlackEmulator, sender: Sender, clock: Clock
) -> None:
    with db.uow() as uow:
        accounts.record(uow.session, ALICE, deleted=True, now=clock())
        people = select(
            literal(ALICE, String).label("lane"),
            literal(ALICE, String).label("address"),
            literal(None, Integer).label("ref_id"),
        ).union_all(
            select(
                literal(BORIS, String).label("lane"),
                literal(BORIS, String).label("address"),
                literal(None, Integer).label("ref_id"),
            )
        )
        # Rows queued in bulk carry no user_id: the address is the person.
        outbox.queue_selected(
            uow.session,
            OutboxKind.POST,
            people,
            # A message rendered when it was queued, as rows written by earlier versions are.
            {"text": "Directive D1 is in effect"},
            now=clock(),
            group_key="d:1",
        )
        uow.commit()

    drained(sender)

    assert emu.dm_texts(BORIS) == ["Directive D1 is in effect"]
    assert emu.messages(ALICE) == []
    with db.read() as session:
        rows = {r.address: (r.status, r.last_error) for r in session.exec(select(OutboxMessage)).all()}
    assert rows == {ALICE: ("failed", ACCOUNT_DEACTIVATED), BORIS: ("sent", None)}


def test_an_approval_request_asks_slack_whether_the_approver_is_still_there(
    db: Database, emu: SlackEmulator, sender: Sender, clock: Clock
) -> None:
    emu.set_user(ALICE, deleted=True)
    request = post(db, ALICE, "Please approve R7", check_account=True)

    drained(sender)

    failed = row(db, request)
    assert (failed.status, failed.last_error, failed.attempts) == ("failed", ACCOUNT_DEACTIVATED, 1)
    assert [c.method for c in emu.calls()] == ["users.info"]
    known = account(db, ALICE)
    assert known is not None and known.deleted is True
    assert abs((known.checked_at - clock()).total_seconds()) < 5
    assert known.changed_at == known.checked_at


def test_an_active_account_is_asked_about_at_most_every_10_minutes(
    db: Database, emu: SlackEmulator, sender: Sender, clock: Clock
) -> None:
    first = post(db, BORIS, "Please approve R1", check_account=True)
    drained(sender)
    first_check = account(db, BORIS)
    assert first_check is not None and first_check.deleted is False

    clock.advance(minutes=5)
    second = post(db, BORIS, "Please approve R2", check_account=True)
    drained(sender)
    assert len(emu.calls("users.info")) == 1  # still fresh

    clock.advance(minutes=6)
    third = post(db, BORIS, "Please approve R3", check_account=True)
    drained(sender)

    assert len(emu.calls("users.info")) == 2
    assert emu.dm_texts(BORIS) == ["Please approve R1", "Please approve R2", "Please approve R3"]
    assert {row(db, i).status for i in (first, second, third)} == {"sent"}
    later = account(db, BORIS)
    assert later is not None
    assert later.checked_at > first_check.checked_at
    assert later.changed_at == first_check.changed_at  # nothing changed


def test_a_person_back_from_deactivation_gets_their_approval_request(
    db: Database, emu: SlackEmulator, sender: Sender, clock: Clock
) -> None:
    with db.uow() as uow:
        accounts.record(uow.session, ALICE, deleted=True, now=clock() - timedelta(hours=1))
        uow.commit()
    request = post(db, ALICE, "Please approve R7", check_account=True)

    drained(sender)

    assert row(db, request).status == "sent"
    assert emu.dm_texts(ALICE) == ["Please approve R7"]
    known = account(db, ALICE)
    assert known is not None and known.deleted is False
    assert abs((known.changed_at - clock()).total_seconds()) < 5


def test_an_approver_slack_does_not_know_fails_with_user_not_found(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    request = post(db, "U0NOBODY1", "Please approve R7", check_account=True)

    drained(sender)

    failed = row(db, request)
    assert (failed.status, failed.last_error, failed.attempts) == ("failed", "user_not_found", 1)
    assert emu.calls("chat.postMessage") == []
    assert account(db, "U0NOBODY1") is None


@pytest.mark.parametrize(
    ("status", "error", "attempts"), [(500, "internal_error", 2), (429, "ratelimited", 1)], ids=["5xx", "429"]
)
def test_a_failed_account_check_is_retried_like_any_other_call(
    db: Database, emu: SlackEmulator, sender: Sender, status: int, error: str, attempts: int
) -> None:
    emu.fail_next("users.info", status=status, error=error, retry_after=1 if status == 429 else None)
    request = post(db, BORIS, "Please approve R7", check_account=True)

    drained(sender)

    sent = row(db, request)
    assert (sent.status, sent.attempts) == ("sent", attempts)  # a rate limit is not a failed attempt
    assert [c.status for c in emu.calls("users.info")] == [status, 200]
    assert emu.dm_texts(BORIS) == ["Please approve R7"]


# -- App Home ---------------------------------------------------------------------------------------


def opened_home(db: Database, *user_ids: str) -> None:
    """People who have opened the Home tab (refresh_homes only refreshes theirs)."""
    with db.uow() as uow:
        for user_id in user_ids:
            uow.session.add(HomeTab(user_id=user_id))
        uow.commit()


def refresh(db: Database, *user_ids: str) -> list[int]:
    with db.uow() as uow:
        outbox.refresh_homes(uow.session, user_ids)
        uow.commit()
    with db.read() as session:
        return [r.id or 0 for r in session.exec(outbox_rows()).all()]


def outbox_rows() -> Any:
    return select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.HOME).order_by(col(OutboxMessage.id))


def home_tab(db: Database, user_id: str) -> HomeTab:
    with db.read() as session:
        found = session.get(HomeTab, user_id)
    assert found is not None
    return found


def home_text(emu: SlackEmulator, user_id: str) -> str:
    home = emu.home(user_id)
    assert home is not None
    return home["blocks"][0]["text"]["text"]


def test_a_home_refresh_publishes_what_is_true_when_it_is_sent_and_remembers_the_hash(
    db: Database, emu: SlackEmulator, sender: Sender, composer: Composer
) -> None:
    opened_home(db, ALICE)
    [first] = refresh(db, ALICE, BORIS)  # Boris never opened the Home tab: nothing for him

    drained(sender)

    assert home_text(emu, ALICE) == "Your access (render 1)"
    assert emu.home(BORIS) is None
    tab = home_tab(db, ALICE)
    home = emu.home(ALICE)
    assert home is not None and tab.view_hash == home["hash"] and tab.published_at is not None
    assert row(db, first).status == "sent"
    [call] = emu.calls("views.publish")
    assert call.params["user_id"] == ALICE and "hash" not in call.params

    refresh(db, ALICE)
    drained(sender)

    latest = emu.calls("views.publish")[-1]
    assert latest.params["hash"] == tab.view_hash  # guarded by the view we published
    assert home_text(emu, ALICE) == "Your access (render 2)"
    assert home_tab(db, ALICE).view_hash == emu.home(ALICE)["hash"]  # type: ignore[index]


def test_a_home_changed_by_someone_else_is_rendered_again_and_published(
    db: Database, emu: SlackEmulator, sender: Sender, composer: Composer
) -> None:
    opened_home(db, ALICE)
    refresh(db, ALICE)
    drained(sender)
    stale = home_tab(db, ALICE).view_hash
    # Another replica answers app_home_opened in between: Slack's hash moves on.
    other = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "other"}}]}
    WebClient(base_url=emu.url, token=TOKEN).views_publish(user_id=ALICE, view=other)
    emu.reset_calls()
    [_, second] = refresh(db, ALICE)

    drained(sender)

    calls = emu.calls("views.publish")
    assert [(c.params.get("hash"), c.response.get("error")) for c in calls] == [
        (stale, "hash_conflict"),
        (None, None),
    ]
    assert composer.renders == [composer.renders[0], second, second]  # rendered again for the retry
    assert home_text(emu, ALICE) == "Your access (render 3)"
    assert home_tab(db, ALICE).view_hash == emu.home(ALICE)["hash"]  # type: ignore[index]
    assert row(db, second).status == "sent"


def test_home_refreshes_for_one_person_go_in_order_through_a_rate_limit(
    db: Database, emu: SlackEmulator, sender: Sender, composer: Composer
) -> None:
    opened_home(db, ALICE)
    emu.fail_next("views.publish", status=429, error="ratelimited", retry_after=1)
    first, second = refresh(db, ALICE), refresh(db, ALICE)

    drained(sender)

    # The second refresh was not rendered (nor sent) before the first, rate-limited one was in.
    assert composer.renders == [first[0], first[0], second[1]]
    assert [c.status for c in emu.calls("views.publish")] == [429, 200, 200]
    assert {row(db, i).status for i in second} == {"sent"}
    assert row(db, first[0]).attempts == 1


def test_record_home_tab_upserts(db: Database) -> None:
    now = utcnow()
    with db.uow() as uow:
        accounts.record_home(uow.session, ALICE, view_hash="1.a", now=now)
        accounts.record_home(uow.session, ALICE, view_hash="2.b", now=now + timedelta(seconds=1))
        uow.commit()
    tab = home_tab(db, ALICE)
    assert (tab.view_hash, tab.published_at) == ("2.b", now + timedelta(seconds=1))


def _post_to(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_a_deactivation_learnt_from_users_info_is_audited_once(db: Database) -> None:
    now = utcnow()
    for deleted in (True, True, False):
        with db.uow() as uow:
            accounts.record(uow.session, ALICE, deleted=deleted, now=now)
            uow.commit()
    with db.read() as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.subject_id == ALICE).order_by(col(AuditEvent.id))
        ).all()
    assert list(actions) == ["account.deactivated", "account.reactivated"]
