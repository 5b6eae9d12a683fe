"""Response URLs: recording, validation, replace/delete of the original, and Slack's limits: five uses
within 30 minutes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from slack_sdk import WebClient

from tests.support.slack import SlackEmulator


def post(url: str, body: dict[str, Any] | str) -> tuple[int, str]:
    data = (body if isinstance(body, str) else json.dumps(body)).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_ephemeral_reply_is_recorded(emu: SlackEmulator) -> None:
    url = emu.new_response_url("U0ALICE", "C0GENERAL")
    assert url.startswith(emu.root_url + "response/")
    assert post(url, {"text": "Your request was sent"}) == (200, "ok")
    [record] = emu.responses(url)
    assert record["body"]["text"] == "Your request was sent"
    assert record["result"] == "ephemeral"
    [shown] = emu.ephemerals("U0ALICE")
    assert (shown["channel"], shown["text"], shown["source"]) == (
        "C0GENERAL",
        "Your request was sent",
        "response_url",
    )
    assert emu.responses() == emu.responses(url.rsplit("/", 1)[-1])


def test_in_channel_reply_becomes_a_channel_message(emu: SlackEmulator) -> None:
    url = emu.new_response_url("U0ALICE", "C0GENERAL")
    post(url, {"text": "Everyone sees this", "response_type": "in_channel"})
    assert emu.channel_texts("C0GENERAL") == ["Everyone sees this"]


def test_invalid_blocks_answer_400(emu: SlackEmulator) -> None:
    url = emu.new_response_url("U0ALICE", "C0GENERAL")
    status, text = post(url, {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]})
    assert status == 400
    assert text.startswith("invalid_blocks") and "fallback" in text
    assert emu.ephemerals() == []
    assert emu.violations and emu.violations[0].startswith("response_url")
    assert post(url, "not json")[0] == 400


def test_replace_and_delete_original(client: WebClient, emu: SlackEmulator) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="Approve?")
    url = emu.new_response_url("U0BOB", "C0GENERAL", message_ts=posted["ts"])
    post(url, {"text": "Approved by Bob", "replace_original": True})
    stored = emu.message("C0GENERAL", posted["ts"])
    assert stored is not None
    assert stored["text"] == "Approved by Bob"
    assert [v["text"] for v in stored["edited"]] == ["Approve?"]
    post(url, {"delete_original": True})
    assert emu.channel_texts("C0GENERAL") == []
    assert emu.deleted_messages()[0]["ts"] == posted["ts"]


def test_replace_ephemeral_original(emu: SlackEmulator) -> None:
    first = emu.new_response_url("U0ALICE", "C0GENERAL")
    post(first, {"text": "Pick a model"})
    ts = emu.ephemerals("U0ALICE")[0]["ts"]
    second = emu.new_response_url("U0ALICE", "C0GENERAL", message_ts=ts, ephemeral=True)
    post(second, {"text": "Requested gpt-5", "replace_original": True})
    [shown] = emu.ephemerals("U0ALICE")
    assert shown["text"] == "Requested gpt-5"


def test_five_uses_per_url(emu: SlackEmulator) -> None:
    url = emu.new_response_url("U0ALICE", "C0GENERAL")
    assert [post(url, {"text": str(i)})[0] for i in range(5)] == [200] * 5
    assert post(url, {"text": "sixth"}) == (404, "used_url")
    assert post(emu.root_url + "response/unknown", {"text": "x"}) == (404, "no_service")


def test_a_url_works_for_30_minutes_then_answers_expired(emu: SlackEmulator) -> None:
    url = emu.new_response_url("U0ALICE", "C0GENERAL")
    emu.advance(29 * 60)
    assert post(url, {"text": "still in time"}) == (200, "ok")
    emu.advance(61)
    assert post(url, {"text": "too late"}) == (404, "expired_url")
    assert [e["text"] for e in emu.ephemerals("U0ALICE")] == ["still in time"]
    assert [(r["status"], r["answer"]) for r in emu.responses(url)] == [(200, "ok"), (404, "expired_url")]


def test_a_url_made_later_gets_its_own_30_minutes(emu: SlackEmulator) -> None:
    early = emu.new_response_url("U0ALICE", "C0GENERAL")
    emu.advance(20 * 60)
    late = emu.new_response_url("U0ALICE", "C0GENERAL")
    emu.advance(15 * 60)
    assert post(early, {"text": "x"}) == (404, "expired_url")
    assert post(late, {"text": "y"}) == (200, "ok")


def test_a_used_up_url_stays_used_up(emu: SlackEmulator) -> None:
    url = emu.new_response_url("U0ALICE", "C0GENERAL")
    for n in range(5):
        post(url, {"text": str(n)})
    assert post(url, {"text": "sixth"}) == (404, "used_url")
    assert [e["text"] for e in emu.ephemerals("U0ALICE")] == ["0", "1", "2", "3", "4"]
