"""The emulator's Web API methods, called through a real slack_sdk WebClient."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.slack import SlackEmulator

# slack_sdk warns (rightly) when text is missing; these tests send such calls on purpose.
missing_text_ok = pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")

SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]


def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def error_code(call: Any) -> str:
    return slack_error(call).response["error"]


def test_auth_test(client: WebClient, emu: SlackEmulator) -> None:
    response = client.auth_test()
    assert response["user_id"] == emu.bot_user_id
    assert response["team_id"] == "T0ACCESS"
    assert response["bot_id"] == emu.bot_id
    assert response["url"].startswith("https://")


def test_auth_errors_and_unknown_method(emu: SlackEmulator) -> None:
    assert error_code(lambda: WebClient(base_url=emu.url).auth_test()) == "not_authed"
    assert error_code(lambda: WebClient(base_url=emu.url, token="xoxb-wrong").auth_test()) == "invalid_auth"
    client = WebClient(base_url=emu.url, token=emu.bot_token)
    assert error_code(lambda: client.api_call("chat.scheduleMessage")) == "unknown_method"


def test_post_to_user_id_lands_in_dm(client: WebClient, emu: SlackEmulator) -> None:
    response = client.chat_postMessage(channel="U0ALICE", text="Your request was approved")
    assert response["channel"] == emu.dm_channel_id("U0ALICE") == "D0ALICE"
    assert response["message"]["text"] == "Your request was approved"
    assert emu.dm_texts("U0ALICE") == ["Your request was approved"]
    assert emu.messages("D0ALICE")[0]["ts"] == response["ts"]


def test_post_to_channel_and_dm_id(client: WebClient, emu: SlackEmulator) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="one", blocks=SECTION)
    client.chat_postMessage(channel="D0BOB", text="two")
    assert emu.channel_texts("C0GENERAL") == ["one"]
    stored = emu.messages("C0GENERAL")[0]
    assert stored["user"] == emu.bot_user_id
    assert stored["blocks"][0]["block_id"], "Slack fills in missing block ids"
    assert emu.dm_texts("U0BOB") == ["two"]


def test_ts_is_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=c, text="x")["ts"] for c in ("C0GENERAL", "U0ALICE") * 10]
    assert len(set(stamps)) == len(stamps)
    assert [Decimal(s) for s in stamps] == sorted(Decimal(s) for s in stamps)


@missing_text_ok
def test_post_errors(client: WebClient) -> None:
    assert error_code(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"
    assert error_code(lambda: client.chat_postMessage(channel="U0NOPE", text="x")) == "channel_not_found"
    assert error_code(lambda: client.chat_postMessage(channel="U0NOTAB", text="x")) == "messages_tab_disabled"
    assert error_code(lambda: client.chat_postMessage(channel="C0OLD", text="x")) == "is_archived"
    assert error_code(lambda: client.chat_postMessage(channel="C0SECRET", text="x")) == "not_in_channel"
    assert error_code(lambda: client.chat_postMessage(channel="C0GENERAL", text="")) == "no_text"


def test_a_deactivated_persons_dm_accepts_messages_like_slack(client: WebClient, emu: SlackEmulator) -> None:
    # Slack keeps a deactivated person's conversations, so posting there succeeds (python-slack-sdk
    # issue 1156); only users.info (deleted: true) tells the bot that nobody will read it.
    by_user = client.chat_postMessage(channel="U0GONE", text="Your access ends today")
    by_channel = client.chat_postMessage(channel=emu.dm_channel_id("U0GONE"), text="Reminder")
    assert by_user["channel"] == by_channel["channel"] == emu.dm_channel_id("U0GONE")
    assert emu.dm_texts("U0GONE") == ["Your access ends today", "Reminder"]
    assert len([w for w in emu.warnings if "U0GONE is deactivated" in w]) == 2
    assert client.users_info(user="U0GONE")["user"]["deleted"] is True


def test_a_person_deactivated_mid_conversation_still_gets_posts(
    client: WebClient, emu: SlackEmulator
) -> None:
    client.chat_postMessage(channel="U0ALICE", text="before")
    emu.set_user("U0ALICE", deleted=True)
    client.chat_postMessage(channel="U0ALICE", text="after")
    assert emu.dm_texts("U0ALICE") == ["before", "after"]
    assert error_code(lambda: client.conversations_open(users="U0ALICE")) == "user_disabled"


def test_public_channel_without_membership_is_fine(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_channel("C0PUBLIC", "public", bot_is_member=False)
    client.chat_postMessage(channel="C0PUBLIC", text="chat:write.public")
    assert emu.channel_texts("C0PUBLIC") == ["chat:write.public"]


def test_invalid_blocks_rejected_and_recorded(client: WebClient, emu: SlackEmulator) -> None:
    too_many = SECTION * 51
    error = slack_error(lambda: client.chat_postMessage(channel="C0GENERAL", text="x", blocks=too_many))
    assert error.response["error"] == "invalid_blocks"
    assert any("max 50" in e for e in error.response["errors"])
    assert emu.channel_texts("C0GENERAL") == []
    assert emu.violations and "chat.postMessage" in emu.violations[0]


@missing_text_ok
def test_blocks_without_fallback_text_are_rejected(client: WebClient, emu: SlackEmulator) -> None:
    assert (
        error_code(lambda: client.chat_postMessage(channel="C0GENERAL", blocks=SECTION)) == "invalid_blocks"
    )
    assert "missing fallback text" in emu.violations[0]


def test_long_text_is_truncated_with_a_warning(client: WebClient, emu: SlackEmulator) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="x" * 40_010)
    assert len(emu.channel_texts("C0GENERAL")[0]) == 40_000
    assert "truncated" in emu.warnings[0]


def test_form_encoded_post_with_json_strings(emu: SlackEmulator) -> None:
    client = WebClient(base_url=emu.url, token=emu.bot_token)
    metadata = {"event_type": "grant", "event_payload": {"id": 7}}
    client.api_call(
        "chat.postMessage",
        params={
            "channel": "C0GENERAL",
            "text": "form",
            "blocks": json.dumps(SECTION),
            "metadata": json.dumps(metadata),
        },
    )
    stored = emu.messages("C0GENERAL")[0]
    assert stored["blocks"][0]["type"] == "section"
    assert stored["metadata"] == metadata
    assert emu.calls("chat.postMessage")[0].params["blocks"][0]["type"] == "section"


def test_metadata_round_trip_through_history(client: WebClient, emu: SlackEmulator) -> None:
    metadata = {"event_type": "accessbot_notice", "event_payload": {"outbox_id": 42}}
    posted = client.chat_postMessage(channel="U0ALICE", text="approved", metadata=metadata)
    without = client.conversations_history(channel=posted["channel"])
    assert "metadata" not in without["messages"][0]
    with_md = client.conversations_history(channel=posted["channel"], include_all_metadata=True)
    assert with_md["messages"][0]["metadata"] == metadata
    assert with_md["messages"][0]["ts"] == posted["ts"]


def test_invalid_metadata(client: WebClient) -> None:
    bad: dict[str, Any] = {"event_payload": {}}
    assert error_code(lambda: client.chat_postMessage(channel="C0GENERAL", text="x", metadata=bad)) == (
        "invalid_metadata_format"
    )


def test_history_order_filters_and_pagination(client: WebClient, emu: SlackEmulator) -> None:
    stamps = [client.chat_postMessage(channel="C0GENERAL", text=f"m{i}")["ts"] for i in range(5)]
    client.chat_postMessage(channel="C0GENERAL", text="reply", thread_ts=stamps[0])
    everything = client.conversations_history(channel="C0GENERAL")
    assert [m["text"] for m in everything["messages"]] == ["m4", "m3", "m2", "m1", "m0"]
    assert everything["has_more"] is False

    page1 = client.conversations_history(channel="C0GENERAL", limit=2)
    assert [m["text"] for m in page1["messages"]] == ["m4", "m3"]
    assert page1["has_more"] is True
    cursor = page1["response_metadata"]["next_cursor"]
    page2 = client.conversations_history(channel="C0GENERAL", limit=2, cursor=cursor)
    assert [m["text"] for m in page2["messages"]] == ["m2", "m1"]

    window = client.conversations_history(channel="C0GENERAL", oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]
    inclusive = client.conversations_history(
        channel="C0GENERAL", oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]


def test_history_errors(client: WebClient) -> None:
    assert error_code(lambda: client.conversations_history(channel="C0NOPE")) == "channel_not_found"
    assert (
        error_code(lambda: client.conversations_history(channel="C0GENERAL", cursor="%%%"))
        == "invalid_cursor"
    )


def test_update_keeps_history_of_versions(client: WebClient, emu: SlackEmulator) -> None:
    posted = client.chat_postMessage(channel="U0ALICE", text="pending", blocks=SECTION)
    updated = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved")
    assert updated["message"]["edited"]["user"] == emu.bot_user_id
    stored = emu.message("U0ALICE", posted["ts"])
    assert stored is not None
    assert stored["text"] == "approved"
    assert stored["blocks"][0]["type"] == "section", "omitted blocks are kept"
    assert [v["text"] for v in stored["edited"]] == ["pending"]
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="revoked", blocks=[])
    assert emu.dm_texts("U0ALICE") == ["revoked"]
    assert emu.messages("U0ALICE")[0]["blocks"] == []


def test_update_errors(client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="x")
    ts = posted["ts"]
    assert error_code(lambda: client.chat_update(channel="C0GENERAL", ts="1.000001", text="y")) == (
        "message_not_found"
    )
    assert error_code(lambda: client.chat_update(channel="U0ALICE", ts=ts, text="y")) == "channel_not_found"
    assert (
        error_code(lambda: client.chat_update(channel="C0GENERAL", ts=ts, text="y" * 4001)) == "msg_too_long"
    )
    assert error_code(
        lambda: client.chat_update(channel="C0GENERAL", ts=ts, text="y", blocks=SECTION * 51)
    ) == ("invalid_blocks")


def test_post_ephemeral(client: WebClient, emu: SlackEmulator) -> None:
    response = client.chat_postEphemeral(channel="C0GENERAL", user="U0ALICE", text="only you")
    assert response["message_ts"]
    shown = emu.ephemerals("U0ALICE")
    assert [(e["channel"], e["text"], e["source"]) for e in shown] == [
        ("C0GENERAL", "only you", "chat.postEphemeral")
    ]
    assert emu.ephemerals("U0BOB") == []
    assert error_code(lambda: client.chat_postEphemeral(channel="C0GENERAL", user="U0NOPE", text="x")) == (
        "user_not_found"
    )
    assert error_code(lambda: client.chat_postEphemeral(channel="C0OLD", user="U0ALICE", text="x")) == (
        "is_archived"
    )
    # A deactivated person is in no conversation any more, and an ephemeral needs its recipient there.
    assert error_code(lambda: client.chat_postEphemeral(channel="C0GENERAL", user="U0GONE", text="x")) == (
        "user_not_in_channel"
    )
    assert emu.ephemerals("U0GONE") == []


def test_conversations_open(client: WebClient) -> None:
    first = client.conversations_open(users="U0ALICE")
    assert first["channel"]["id"] == "D0ALICE"
    assert client.conversations_open(users="U0ALICE")["already_open"] is True
    assert error_code(lambda: client.conversations_open(users="U0NOPE")) == "user_not_found"
    # Documented for conversations.open: user_disabled, "A specified user has been disabled".
    assert error_code(lambda: client.conversations_open(users="U0GONE")) == "user_disabled"


def test_users_info_and_lookup(client: WebClient) -> None:
    user = client.users_info(user="U0ALICE")["user"]
    assert user["profile"]["email"] == "alice@example.com"
    assert user["real_name"] == "Alice Adams"
    assert user["deleted"] is False
    assert client.users_lookupByEmail(email="bob@example.COM")["user"]["id"] == "U0BOB"
    assert client.users_info(user="U0GONE")["user"]["deleted"] is True
    assert error_code(lambda: client.users_info(user="U0NOPE")) == "user_not_found"
    assert error_code(lambda: client.users_lookupByEmail(email="nobody@example.com")) == "users_not_found"


def test_calls_are_recorded(client: WebClient, emu: SlackEmulator) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="x")
    calls = emu.calls("chat.postMessage")
    assert len(calls) == 1
    assert calls[0].params["channel"] == "C0GENERAL"
    assert calls[0].status == 200
    assert calls[0].response["ok"] is True
    emu.reset_calls()
    assert emu.calls() == []


def test_find_messages_and_wait_for(client: WebClient, emu: SlackEmulator) -> None:
    client.chat_postMessage(channel="U0ALICE", text="alpha")
    client.chat_postMessage(channel="C0GENERAL", text="beta")
    assert [m["text"] for m in emu.find_messages(lambda m: "a" in m["text"])] == ["alpha", "beta"]
    assert emu.wait_for(lambda: emu.dm_texts("U0ALICE")[0]) == "alpha"
    with pytest.raises(AssertionError, match=r"bob gets a DM; not met within 0\.1s"):
        emu.wait_for(lambda: emu.dm_texts("U0BOB")[0], timeout=0.1, message="bob gets a DM")


def test_get_requests_with_query_string(emu: SlackEmulator) -> None:
    request = urllib.request.Request(
        emu.url + "users.info?user=U0BOB", headers={"Authorization": f"Bearer {emu.bot_token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["user"]["name"] == "bob"


def test_concurrent_posts_get_unique_ts(emu: SlackEmulator) -> None:
    def post_ten(channel: str) -> list[str]:
        client = WebClient(base_url=emu.url, token=emu.bot_token)
        return [client.chat_postMessage(channel=channel, text="x")["ts"] for _ in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = pool.map(post_ten, ["C0GENERAL", "U0ALICE", "U0BOB", "C0GENERAL"] * 2)
        stamps = [ts for batch in batches for ts in batch]
    assert len(set(stamps)) == 80
    assert len(emu.messages("C0GENERAL")) == 40
