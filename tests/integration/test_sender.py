"""The outbox sender against the Slack emulator: what arrives in Slack, in which order, how often, and
what the outbox row says afterwards, through rate limits, server errors, timeouts and crashed workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import col, select

from bot.notify import outbox
from bot.notify.history import METADATA_EVENT
from bot.notify.sender import Sender, sender_client
from bot.store import outbox as outbox_rows
from bot.store.db import Database
from bot.store.tables import AuditEvent, DmChannel, OutboxMessage
from bot.store.types import utcnow
from tests.integration.workspace import ALICE, BORIS, GENERAL, RESEARCH, TOKEN, open_database
from tests.support.outbox import raw, raw_composer
from tests.support.slack import SlackEmulator

CLIENT_TIMEOUT = 1.0
MakeSender = Callable[..., Sender]


@pytest.fixture
def make_sender(emu: SlackEmulator) -> Iterator[MakeSender]:
    """Senders for a database, talking to the emulator; each is stopped when the test ends."""
    senders: list[Sender] = []

    def make(database: Database, **options: Any) -> Sender:
        settings: dict[str, Any] = {
            "workers": 4,
            "lease_seconds": 10.0,
            "poll_seconds": 0.05,
            "composer": raw_composer(),
        }
        settings.update(options)
        sender = Sender(database, sender_client(emu.url, TOKEN, CLIENT_TIMEOUT), **settings)
        senders.append(sender)
        return sender

    yield make
    for sender in senders:
        sender.stop()


@pytest.fixture
def sender(db: Database, make_sender: MakeSender) -> Sender:
    return make_sender(db)


def post(db: Database, address: str, text: str) -> int:
    with db.uow() as uow:
        row = outbox.post(uow.session, address, raw({"text": text}))
        uow.commit()
    assert row.id is not None
    return row.id


def edit(db: Database, post_id: int, text: str) -> int:
    with db.uow() as uow:
        original = uow.session.get(OutboxMessage, post_id)
        assert original is not None
        row = outbox.update(uow.session, original, raw({"text": text}))
        uow.commit()
    assert row.id is not None
    return row.id


def row(db: Database, outbox_id: int) -> OutboxMessage:
    with db.read() as session:
        found = session.get(OutboxMessage, outbox_id)
    assert found is not None
    return found


def outbox_id_of(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    return (metadata.get("event_payload") or {}).get("outbox_id")


def post_texts(emu: SlackEmulator) -> list[str]:
    """The text of every chat.postMessage call, in the order Slack received them."""
    return [call.params.get("text", "") for call in emu.calls("chat.postMessage")]


def drained(sender: Sender, timeout: float = 15.0) -> None:
    assert sender.drain(timeout=timeout), "the outbox still has undelivered messages"


# -- delivery ---------------------------------------------------------------------------------------


def test_a_post_to_a_person_arrives_in_their_dm(db: Database, emu: SlackEmulator, sender: Sender) -> None:
    outbox_id = post(db, ALICE, "Your request for mythos-5 was filed")

    drained(sender)

    [message] = emu.messages(ALICE)
    assert message["text"] == "Your request for mythos-5 was filed"
    assert outbox_id_of(message) == outbox_id
    sent = row(db, outbox_id)
    assert sent.status == "sent"
    assert sent.sent_channel == emu.dm_channel_id(ALICE) == message["channel"]
    assert sent.sent_ts == message["ts"]
    assert sent.sent_at is not None
    assert sent.attempts == 1
    assert sent.last_error is None
    with db.read() as session:
        dm = session.get(DmChannel, ALICE)
    assert dm is not None and dm.channel_id == emu.dm_channel_id(ALICE)


def test_a_post_to_a_channel_arrives_there(db: Database, emu: SlackEmulator, sender: Sender) -> None:
    outbox_id = post(db, GENERAL, "Mythos 5 is suspended for some people")

    drained(sender)

    assert emu.channel_texts(GENERAL) == ["Mythos 5 is suspended for some people"]
    assert emu.channel_texts(RESEARCH) == []
    assert row(db, outbox_id).sent_channel == GENERAL


def test_nothing_is_sent_for_a_transaction_that_rolled_back(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    with db.uow() as uow:
        outbox.post(uow.session, ALICE, raw({"text": "Approved"}))  # never committed

    drained(sender)

    assert emu.messages(ALICE) == []
    assert emu.calls("chat.postMessage") == []


def test_an_update_edits_the_delivered_post_in_place(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    with db.uow() as uow:
        original = outbox.post(uow.session, BORIS, raw({"text": "Approve Alice's request?"}))
        outbox.update(uow.session, original, raw({"text": "Approved by Maria"}))
        uow.commit()
    assert original.id is not None
    later = edit(db, original.id, "Approved by Maria; access granted until Friday")

    drained(sender)

    [message] = emu.messages(BORIS)
    assert message["text"] == "Approved by Maria; access granted until Friday"
    assert [version["text"] for version in message["edited"]] == [
        "Approve Alice's request?",
        "Approved by Maria",
    ]
    assert [call.method for call in emu.calls()] == ["chat.postMessage", "chat.update", "chat.update"]
    assert all(
        call.params["channel"] == message["channel"] and call.params["ts"] == message["ts"]
        for call in emu.calls("chat.update")
    )
    edited = row(db, later)
    assert (edited.status, edited.sent_channel, edited.sent_ts) == ("sent", message["channel"], message["ts"])


def test_an_update_of_a_post_that_failed_is_not_attempted(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    with db.uow() as uow:
        original = outbox.post(uow.session, "C0DELETED", raw({"text": "Directive issued"}))
        change = outbox.update(uow.session, original, raw({"text": "Directive lifted"}))
        uow.commit()
    assert original.id is not None and change.id is not None

    drained(sender)

    assert [call.method for call in emu.calls()] == ["chat.postMessage"]
    assert row(db, original.id).last_error == "channel_not_found"
    failed = row(db, change.id)
    assert failed.status == "failed"
    assert failed.last_error == "the message to update was never delivered"


def test_a_response_url_reply_is_delivered(db: Database, emu: SlackEmulator, sender: Sender) -> None:
    url = emu.new_response_url(ALICE, GENERAL)
    with db.uow() as uow:
        reply = outbox.respond(
            uow.session, url, raw({"text": "Your request #12 was cancelled"}), user_id=ALICE
        )
        uow.commit()
    assert reply.id is not None

    drained(sender)

    [response] = emu.responses(url)
    assert response["status"] == 200
    assert response["body"]["response_type"] == "ephemeral"
    assert [e["text"] for e in emu.ephemerals(ALICE)] == ["Your request #12 was cancelled"]
    assert emu.messages(GENERAL) == []
    assert row(db, reply.id).status == "sent"


def test_a_response_url_reply_can_replace_the_message_it_came_from(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    original = WebClient(base_url=emu.url, token=TOKEN).chat_postMessage(
        channel=GENERAL, text="Approve Alice's request?"
    )
    url = emu.new_response_url(BORIS, GENERAL, message_ts=str(original["ts"]))
    with db.uow() as uow:
        outbox.respond(
            uow.session,
            url,
            raw({"text": "You approved Alice's request"}),
            user_id=BORIS,
            replace_original=True,
        )
        uow.commit()

    drained(sender)

    [message] = emu.messages(GENERAL)
    assert message["text"] == "You approved Alice's request"
    assert [version["text"] for version in message["edited"]] == ["Approve Alice's request?"]


def test_an_unknown_response_url_fails_without_retrying(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    url = emu.root_url + "response/R0NOSUCHURL"
    with db.uow() as uow:
        reply = outbox.respond(uow.session, url, raw({"text": "Too late"}), user_id=None)
        uow.commit()
    assert reply.id is not None

    drained(sender)

    failed = row(db, reply.id)
    assert failed.status == "failed"
    assert failed.attempts == 1
    assert failed.last_error == "http_404: no_service"
    assert emu.calls() == []


# -- order and pace ---------------------------------------------------------------------------------


def test_a_lane_stays_in_order_when_its_first_message_is_rate_limited(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    emu.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    first = post(db, GENERAL, "1. Directive issued")
    second = post(db, GENERAL, "2. Mythos 5 suspended")
    third = post(db, GENERAL, "3. Fable 5 suspended")

    drained(sender)

    assert emu.channel_texts(GENERAL) == [
        "1. Directive issued",
        "2. Mythos 5 suspended",
        "3. Fable 5 suspended",
    ]
    # The second message was never even tried before the first one was in.
    assert post_texts(emu) == ["1. Directive issued", *emu.channel_texts(GENERAL)]
    assert [row(db, i).status for i in (first, second, third)] == ["sent"] * 3


def test_a_rate_limit_pauses_the_method_for_retry_after_and_is_not_a_failed_attempt(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    db.on_outbox_commit.append(sender.wake)
    sender.start()
    emu.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    limited = post(db, GENERAL, "Mythos 5 is suspended")
    emu.wait_for(lambda: emu.calls("chat.postMessage"), message="the first attempt")

    waiting = emu.wait_for(
        lambda: (r := row(db, limited)).status == "pending" and r, message="a retry scheduled"
    )
    assert waiting.attempts == 0
    assert waiting.last_error == "ratelimited"
    # A message for another channel, queued during the pause, waits for it too.
    other = post(db, RESEARCH, "Fable 5 is suspended")

    emu.wait_for(lambda: row(db, limited).status == "sent" and row(db, other).status == "sent", timeout=10)

    [refused, *retried] = emu.calls("chat.postMessage")
    assert refused.status == 429
    assert [call.status for call in retried] == [200, 200]
    assert min(call.at for call in retried) - refused.at >= 0.9
    assert row(db, limited).attempts == 1
    assert emu.channel_texts(GENERAL) == ["Mythos 5 is suspended"]
    assert emu.channel_texts(RESEARCH) == ["Fable 5 is suspended"]


def test_posts_to_one_channel_are_paced_to_stay_under_slacks_limit(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    # One token more than the sender's own burst: a post that reaches the emulator a little early, as
    # on a busy machine, is not a 429; five posts at once, unpaced, would still be.
    emu.set_channel_rate_limit(per_second=1.0, burst=4, retry_after=1)
    for n in range(5):
        post(db, GENERAL, f"notice {n}")

    drained(sender)

    assert emu.channel_texts(GENERAL) == [f"notice {n}" for n in range(5)]
    assert [call.status for call in emu.calls("chat.postMessage")] == [200] * 5


# -- errors -----------------------------------------------------------------------------------------


def test_a_server_error_is_retried_after_checking_slack_did_not_post_it(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    emu.fail_next("chat.postMessage", status=500, error="internal_error")
    outbox_id = post(db, GENERAL, "Access granted")

    drained(sender)

    assert emu.channel_texts(GENERAL) == ["Access granted"]
    assert [(call.method, call.status) for call in emu.calls()] == [
        ("chat.postMessage", 500),
        ("conversations.history", 200),
        ("chat.postMessage", 200),
    ]
    sent = row(db, outbox_id)
    assert sent.status == "sent"
    assert sent.attempts == 2
    assert sent.uncertain is False


@pytest.mark.parametrize("address", [GENERAL, ALICE], ids=["channel", "dm"])
def test_a_post_that_reached_slack_before_the_client_timed_out_is_not_sent_twice(
    db: Database, emu: SlackEmulator, sender: Sender, address: str
) -> None:
    emu.hang_next("chat.postMessage", seconds=CLIENT_TIMEOUT + 1.5, apply=True)
    outbox_id = post(db, address, "Access granted")

    drained(sender)

    [message] = emu.messages(address)
    assert outbox_id_of(message) == outbox_id
    assert len(emu.calls("chat.postMessage")) == 1
    assert emu.calls("conversations.history")
    sent = row(db, outbox_id)
    assert (sent.status, sent.sent_channel, sent.sent_ts) == ("sent", message["channel"], message["ts"])


@pytest.mark.parametrize(
    ("address", "lookup"),
    [(GENERAL, "conversations.history"), (ALICE, "conversations.open")],
    ids=["channel-history-limited", "dm-open-limited"],
)
def test_a_rate_limited_look_up_still_prevents_a_second_post(
    db: Database, emu: SlackEmulator, sender: Sender, address: str, lookup: str
) -> None:
    emu.hang_next("chat.postMessage", seconds=CLIENT_TIMEOUT + 1.5, apply=True)
    emu.fail_next(lookup, status=429, error="ratelimited", retry_after=1)
    outbox_id = post(db, address, "Access granted")

    drained(sender)

    assert [outbox_id_of(m) for m in emu.messages(address)] == [outbox_id]
    assert len(emu.calls("chat.postMessage")) == 1
    assert row(db, outbox_id).status == "sent"


def test_a_post_lost_on_the_way_to_slack_is_sent_once_after_the_timeout(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    emu.hang_next("chat.postMessage", seconds=CLIENT_TIMEOUT + 1.5, apply=False)
    outbox_id = post(db, GENERAL, "Access granted")

    drained(sender)

    [message] = emu.messages(GENERAL)
    assert outbox_id_of(message) == outbox_id
    assert len(emu.calls("chat.postMessage")) == 2
    assert row(db, outbox_id).status == "sent"


@pytest.mark.parametrize(
    ("address", "error"),
    [(ALICE, "messages_tab_disabled"), ("C0NOSUCHCHAN", "channel_not_found")],
    ids=["dms-turned-off", "unknown-channel"],
)
def test_a_permanent_error_fails_the_message_after_one_call(
    db: Database, emu: SlackEmulator, sender: Sender, address: str, error: str
) -> None:
    emu.set_user(ALICE, messages_tab=False)
    outbox_id = post(db, address, "Your access was suspended")

    drained(sender)

    failed = row(db, outbox_id)
    assert failed.status == "failed"
    assert failed.last_error == error
    assert failed.sent_ts is None
    assert [(call.method, call.response.get("error")) for call in emu.calls()] == [
        ("chat.postMessage", error)
    ]


def test_a_permanent_failure_does_not_hold_up_the_rest_of_its_lane(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    emu.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    broken = post(db, GENERAL, "broken layout")
    fine = post(db, GENERAL, "Fable 5 is available again")

    drained(sender)

    assert emu.channel_texts(GENERAL) == ["Fable 5 is available again"]
    assert (row(db, broken).status, row(db, fine).status) == ("failed", "sent")


def test_a_requeued_failed_message_is_delivered(db: Database, emu: SlackEmulator, sender: Sender) -> None:
    emu.set_user(ALICE, messages_tab=False)
    outbox_id = post(db, ALICE, "Your access to mythos-5 ends tomorrow")
    drained(sender)
    assert row(db, outbox_id).status == "failed"

    emu.set_user(ALICE, messages_tab=True)
    assert outbox_rows.requeue_failed(db, [outbox_id], actor="cli:ops") == [outbox_id]
    assert row(db, outbox_id).status == "pending"
    drained(sender)

    assert emu.dm_texts(ALICE) == ["Your access to mythos-5 ends tomorrow"]
    sent = row(db, outbox_id)
    assert (sent.status, sent.last_error, sent.attempts) == ("sent", None, 1)
    with db.read() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "outbox.requeued")).all()
    assert [(e.actor, e.subject_id) for e in events] == [("cli:ops", str(outbox_id))]


def test_requeue_leaves_messages_that_did_not_fail_alone(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    delivered = post(db, GENERAL, "Already delivered")
    drained(sender)

    assert outbox_rows.requeue_failed(db, [delivered], actor="cli:ops") == []

    drained(sender)
    assert emu.channel_texts(GENERAL) == ["Already delivered"]


# -- crashed and competing workers ------------------------------------------------------------------


def abandon(db: Database, outbox_id: int, *, lease_left: float) -> None:
    """Leave the item as a worker that claimed it and then stopped would."""
    with db.uow() as uow:
        uow.session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == outbox_id)
            .values(
                status="sending",
                attempts=1,
                claimed_by="dead-worker",
                claimed_until=utcnow() + timedelta(seconds=lease_left),
            )
        )  # type: ignore[call-overload]
        uow.commit()


@pytest.mark.parametrize("address", [GENERAL, ALICE], ids=["channel", "dm"])
def test_a_crashed_workers_post_that_reached_slack_is_marked_sent_without_posting_again(
    db: Database, emu: SlackEmulator, sender: Sender, address: str
) -> None:
    outbox_id = post(db, address, "Access granted")
    abandon(db, outbox_id, lease_left=-1)
    already = WebClient(base_url=emu.url, token=TOKEN).chat_postMessage(
        channel=address,
        text="Access granted",
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": outbox_id}},
    )
    emu.reset_calls()

    drained(sender)

    assert emu.calls("chat.postMessage") == []
    assert [m["text"] for m in emu.messages(address)] == ["Access granted"]
    sent = row(db, outbox_id)
    assert (sent.status, sent.sent_channel, sent.sent_ts) == ("sent", already["channel"], already["ts"])


@pytest.mark.parametrize("address", [GENERAL, ALICE], ids=["channel", "dm"])
def test_a_crashed_workers_post_that_never_reached_slack_is_posted_once(
    db: Database, emu: SlackEmulator, sender: Sender, address: str
) -> None:
    outbox_id = post(db, address, "Access granted")
    # Another message from the bot in the same conversation, for a different outbox item.
    WebClient(base_url=emu.url, token=TOKEN).chat_postMessage(
        channel=address,
        text="Request filed",
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": outbox_id + 1000}},
    )
    abandon(db, outbox_id, lease_left=-1)
    emu.reset_calls()

    drained(sender)

    assert len(emu.calls("chat.postMessage")) == 1
    assert [m["text"] for m in emu.messages(address)] == ["Request filed", "Access granted"]
    assert outbox_id_of(emu.messages(address)[-1]) == outbox_id
    assert row(db, outbox_id).status == "sent"


def test_an_item_claimed_by_a_live_worker_is_left_alone(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    outbox_id = post(db, GENERAL, "Access granted")
    abandon(db, outbox_id, lease_left=60)

    assert not sender.drain(timeout=0.5)

    assert emu.calls() == []
    claimed = row(db, outbox_id)
    assert (claimed.status, claimed.claimed_by) == ("sending", "dead-worker")


@pytest.mark.postgres
def test_two_senders_deliver_each_message_exactly_once(
    postgres_url: str, emu: SlackEmulator, make_sender: MakeSender
) -> None:
    channels = [f"C0LOAD{n:04d}" for n in range(100)]
    for channel in channels:
        emu.add_channel(channel, channel.lower())
    database = open_database(postgres_url)
    try:
        queued: dict[str, list[int]] = {channel: [] for channel in channels}
        with database.uow() as uow:
            for n in range(3):
                for channel in channels:
                    message = outbox.post(uow.session, channel, raw({"text": f"notice {n} for {channel}"}))
                    assert message.id is not None
                    queued[channel].append(message.id)
            uow.commit()
        # Unpaced: what is tested is that each message goes once and in order, not the workspace's pace
        # (tests/e2e/test_post_pace.py), which would hold 300 posts to a minute.
        senders = [make_sender(database, workers=8, posts_per_minute=60_000) for _ in range(2)]
        for each in senders:
            each.start()

        emu.wait_for(lambda: senders[0].pending_count() == 0, timeout=60, message="every message delivered")

        for each in senders:
            each.stop()
        assert len(emu.calls("chat.postMessage")) == 300
        for channel in channels:
            # Each message once, in the order it was queued.
            assert [outbox_id_of(m) for m in emu.messages(channel)] == queued[channel]
        with database.read() as session:
            rows = session.exec(select(OutboxMessage)).all()
        assert len(rows) == 300
        assert {r.status for r in rows} == {"sent"}
        assert {r.claimed_by for r in rows} == {s.worker_id for s in senders}
    finally:
        database.dispose()


def test_a_public_channel_the_bot_never_joined_is_joined_to_check_for_a_post(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    emu.add_channel("C0OUTSIDE", "outside", bot_is_member=False)  # postable with chat:write.public only
    outbox_id = post(db, "C0OUTSIDE", "Directive D1 is in effect")
    abandon(db, outbox_id, lease_left=-1)
    WebClient(base_url=emu.url, token=TOKEN).chat_postMessage(
        channel="C0OUTSIDE",
        text="Directive D1 is in effect",
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": outbox_id}},
    )
    emu.reset_calls()

    drained(sender)

    assert [c.method for c in emu.calls() if c.method.startswith("conversations.")] == [
        "conversations.history",
        "conversations.join",
        "conversations.history",
    ]
    assert emu.calls("chat.postMessage") == []
    assert len(emu.messages("C0OUTSIDE")) == 1 and row(db, outbox_id).status == "sent"


def test_a_history_that_cannot_be_read_does_not_lose_the_message(
    db: Database, emu: SlackEmulator, sender: Sender
) -> None:
    emu.add_channel("C0PRIVATE", "private", is_private=True, bot_is_member=True)
    outbox_id = post(db, "C0PRIVATE", "Directive D1 is in effect")
    abandon(db, outbox_id, lease_left=-1)
    emu.fail_next("conversations.history", status=200, error="missing_scope", channel="C0PRIVATE")

    drained(sender)

    # It could not tell whether the earlier attempt arrived, so it sends rather than risk losing it.
    assert [m["text"] for m in emu.messages("C0PRIVATE")] == ["Directive D1 is in effect"]
    assert row(db, outbox_id).status == "sent"


def test_interactive_messages_go_before_a_broadcast_backlog(
    db: Database, emu: SlackEmulator, make_sender: MakeSender
) -> None:
    with db.uow() as uow:
        for n in range(40):
            outbox.post(
                uow.session,
                GENERAL if n % 2 else RESEARCH,
                raw({"text": f"notice {n}"}),
                group_key="directive:1",
            )
        uow.commit()
    approval = post(db, ALICE, "Please approve R1")
    sender = make_sender(db, workers=1)
    sender.dispatch()  # one slot: it must go to the approval, not to the older broadcast rows
    emu.wait_for(lambda: emu.messages(ALICE))
    assert emu.calls("chat.postMessage")[0].params["channel"] == ALICE
    emu.wait_for(lambda: row(db, approval).status == "sent")
