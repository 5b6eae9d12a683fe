"""Rate limits and injected failures, as seen by a real slack_sdk WebClient."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.slack import SlackEmulator
from tests.support.slack.faults import TokenBucket


def raises_slack(call: object) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()  # type: ignore[operator]
    return info.value


def test_method_rate_limit_answers_429_with_retry_after(client: WebClient, emu: SlackEmulator) -> None:
    emu.set_rate_limit("users.info", per_minute=2, retry_after=7)
    client.users_info(user="U0ALICE")
    client.users_info(user="U0BOB")
    error = raises_slack(lambda: client.users_info(user="U0ALICE"))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    assert [c.status for c in emu.calls("users.info")] == [200, 200, 429]
    emu.set_rate_limit("users.info")  # no rate: limit removed
    client.users_info(user="U0ALICE")


def test_retry_after_says_how_long_until_a_call_would_pass(client: WebClient, emu: SlackEmulator) -> None:
    # Slack's Retry-After is the wait, in whole seconds: 3 a minute leave one call every 20 s.
    emu.set_rate_limit("users.info", per_minute=3)
    for _ in range(3):
        client.users_info(user="U0ALICE")
    error = raises_slack(lambda: client.users_info(user="U0ALICE"))
    assert 19 <= int(error.response.headers["Retry-After"]) <= 20


def test_rate_limited_post_is_not_applied(client: WebClient, emu: SlackEmulator) -> None:
    emu.set_rate_limit("chat.postMessage", per_second=1, retry_after=1)
    client.chat_postMessage(channel="C0GENERAL", text="first")
    raises_slack(lambda: client.chat_postMessage(channel="C0GENERAL", text="second"))
    assert emu.channel_texts("C0GENERAL") == ["first"]


def test_channel_rate_limit_is_per_channel(client: WebClient, emu: SlackEmulator) -> None:
    emu.set_channel_rate_limit(per_second=1.0, burst=2, retry_after=2)
    client.chat_postMessage(channel="C0GENERAL", text="1")
    client.chat_postMessage(channel="C0GENERAL", text="2")
    error = raises_slack(lambda: client.chat_postMessage(channel="C0GENERAL", text="3"))
    assert error.response.headers["Retry-After"] == "2"
    # Another channel (a DM, addressed by user id) has its own bucket.
    client.chat_postMessage(channel="U0ALICE", text="dm 1")
    client.chat_postMessage(channel="D0ALICE", text="dm 2")
    assert (
        raises_slack(lambda: client.chat_postMessage(channel="U0ALICE", text="dm 3")).response.status_code
        == 429
    )
    emu.set_channel_rate_limit(None)
    client.chat_postMessage(channel="C0GENERAL", text="3")
    assert emu.channel_texts("C0GENERAL") == ["1", "2", "3"]


def test_token_bucket_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, capacity=1, clock=lambda: now[0])
    assert bucket.take()
    assert not bucket.take()
    now[0] = 0.5
    assert bucket.take()


def test_fail_next_500(client: WebClient, emu: SlackEmulator) -> None:
    emu.fail_next("chat.postMessage", count=2)
    for _ in range(2):
        error = raises_slack(lambda: client.chat_postMessage(channel="C0GENERAL", text="x"))
        assert error.response.status_code == 500
        assert error.response["error"] == "internal_error"
    client.chat_postMessage(channel="C0GENERAL", text="third time lucky")
    assert emu.channel_texts("C0GENERAL") == ["third time lucky"]


def test_fail_next_for_one_channel_with_retry_after(client: WebClient, emu: SlackEmulator) -> None:
    emu.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=3, channel="U0BOB")
    client.chat_postMessage(channel="U0ALICE", text="alice unaffected")
    error = raises_slack(lambda: client.chat_postMessage(channel="D0BOB", text="x"))
    assert error.response.status_code == 503
    assert error.response.headers["Retry-After"] == "3"
    client.chat_postMessage(channel="U0BOB", text="now fine")
    assert emu.dm_texts("U0BOB") == ["now fine"]


def test_fail_next_can_return_slack_errors_with_200(client: WebClient, emu: SlackEmulator) -> None:
    emu.fail_next("users.info", status=200, error="token_revoked")
    error = raises_slack(lambda: client.users_info(user="U0ALICE"))
    assert (error.response.status_code, error.response["error"]) == (200, "token_revoked")


def test_hang_with_client_timeout_still_applies(emu: SlackEmulator) -> None:
    client = WebClient(base_url=emu.url, token=emu.bot_token, timeout=0.3)  # type: ignore[arg-type]
    emu.hang_next("chat.postMessage", seconds=1.0)
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="U0ALICE", text="did it arrive?")
    assert emu.dm_texts("U0ALICE") == ["did it arrive?"]
    [call] = emu.calls("chat.postMessage")  # recorded while the answer is still being held back
    assert call.response["ok"] is True
    # The next call is answered promptly.
    client.chat_postMessage(channel="U0ALICE", text="second")


def test_hang_without_apply_is_not_applied(emu: SlackEmulator) -> None:
    client = WebClient(base_url=emu.url, token=emu.bot_token, timeout=0.3)  # type: ignore[arg-type]
    emu.hang_next("chat.postMessage", seconds=0.6, apply=False)
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="U0ALICE", text="lost")
    assert emu.dm_texts("U0ALICE") == []


def test_slow_but_successful_call(client: WebClient, emu: SlackEmulator) -> None:
    emu.hang_next("auth.test", seconds=0.2)
    started = time.monotonic()
    assert client.auth_test()["ok"] is True
    assert time.monotonic() - started >= 0.2


def test_latency_applies_to_every_call(client: WebClient, emu: SlackEmulator) -> None:
    emu.set_latency(0.1)
    started = time.monotonic()
    client.auth_test()
    client.auth_test()
    assert time.monotonic() - started >= 0.2
    emu.clear_faults()
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started < 0.1
