"""Which Slack failures the sender retries, waits out, or gives up on at once (bot/notify/slack_errors.py)."""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.notify.slack_errors import (
    TRANSIENT,
    classify,
    classify_http,
    error_code,
    is_transient,
    response_url_gone,
)


def api_error(
    error: str | None,
    status: int = 200,
    headers: dict[str, Any] | None = None,
    method: str = "chat.postMessage",
) -> SlackApiError:
    data: dict[str, Any] = {"ok": False}
    if error is not None:
        data["error"] = error
    response = SlackResponse(
        client=WebClient(),
        http_verb="POST",
        api_url=f"https://slack.com/api/{method}",
        req_args={},
        data=data,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(f"The request to the Slack API failed: {error}", response)


# Errors that never clear, from the method pages of every method the bot calls.
NEVER_CLEAR = [
    ("chat.postMessage", "channel_not_found"),
    ("chat.postMessage", "not_in_channel"),
    ("chat.postMessage", "is_archived"),
    ("chat.postMessage", "messages_tab_disabled"),
    ("chat.postMessage", "invalid_blocks"),
    ("chat.postMessage", "msg_too_long"),
    ("chat.postMessage", "restricted_action"),
    ("chat.postMessage", "account_inactive"),
    ("chat.update", "message_not_found"),
    ("chat.update", "cant_update_message"),
    ("chat.update", "edit_window_closed"),
    ("conversations.open", "user_disabled"),
    ("conversations.open", "user_not_visible"),
    ("conversations.open", "user_not_found"),
    ("conversations.history", "channel_not_found"),
    ("conversations.history", "missing_scope"),
    ("conversations.join", "method_not_supported_for_channel_type"),
    ("conversations.join", "too_many_members"),
    ("views.open", "expired_trigger_id"),
    ("views.open", "exchanged_trigger_id"),
    ("views.publish", "not_enabled"),
    ("views.publish", "view_too_large"),
    ("users.info", "user_not_found"),
    ("users.info", "user_not_visible"),
    ("auth.test", "invalid_auth"),
    ("auth.test", "token_revoked"),
    ("auth.test", "not_authed"),
    ("chat.postMessage", "a_code_slack_adds_next_year"),  # unknown: a retry loop will not fix it
]


@pytest.mark.parametrize(("method", "code"), NEVER_CLEAR, ids=[f"{m}:{c}" for m, c in NEVER_CLEAR])
def test_errors_that_never_clear_fail_at_once(method: str, code: str) -> None:
    failure = classify(api_error(code, method=method))
    assert (failure.kind, failure.error, failure.maybe_sent) == ("permanent", code, False)
    assert not is_transient(code)


@pytest.mark.parametrize("code", sorted(TRANSIENT))
def test_errors_slack_documents_as_passing_are_retried(code: str) -> None:
    failure = classify(api_error(code))
    assert (failure.kind, failure.error) == ("transient", code)
    assert is_transient(code)


def test_errors_after_which_the_call_may_have_been_applied_are_checked_before_resending() -> None:
    assert classify(api_error("internal_error")).maybe_sent is True
    assert classify(api_error("fatal_error")).maybe_sent is True
    assert classify(api_error("service_unavailable")).maybe_sent is False
    assert classify(api_error("request_timeout")).maybe_sent is False  # the POST data never arrived


@pytest.mark.parametrize("code", ["ratelimited", "rate_limited"])
def test_rate_limits_wait_for_retry_after(code: str) -> None:
    failure = classify(api_error(code, status=429, headers={"Retry-After": "7"}))
    assert (failure.kind, failure.retry_after) == ("rate_limited", 7.0)
    assert classify(api_error(None, status=429)).retry_after == 1.0  # no header: a second
    assert classify(api_error(code, headers={"retry-after": ["3"]})).retry_after == 3.0


def test_server_errors_are_transient_and_may_have_been_applied() -> None:
    for status in (500, 502, 503, 504):
        failure = classify(api_error(None, status=status))
        assert (failure.kind, failure.error, failure.maybe_sent) == ("transient", f"http_{status}", True)
    assert classify(api_error("request_timeout", status=504)).error == "request_timeout"


def test_http_errors_without_a_slack_code() -> None:
    assert classify(api_error(None, status=404)).kind == "permanent"
    assert classify(api_error(None, status=408)).kind == "transient"


@pytest.mark.parametrize(
    "error",
    [
        TimeoutError(),
        ConnectionRefusedError(),
        ConnectionResetError(),
        urllib.error.URLError("refused"),
        OSError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_network_errors_are_transient_and_may_have_reached_slack(error: BaseException) -> None:
    failure = classify(error)
    assert (failure.kind, failure.maybe_sent) == ("transient", True)


def test_urllib_http_errors() -> None:
    def http(code: int) -> urllib.error.HTTPError:
        return urllib.error.HTTPError("https://hooks.slack.com/x", code, "x", {"Retry-After": "2"}, None)  # type: ignore[arg-type]

    assert classify(http(429)).retry_after == 2.0
    assert classify(http(503)).kind == "transient"
    assert classify(http(403)).kind == "permanent"


def test_error_code_reads_only_slack_errors() -> None:
    assert error_code(api_error("user_disabled")) == "user_disabled"
    assert error_code(api_error(None)) is None
    assert error_code(ValueError("user_disabled")) is None


# -- response URLs ------------------------------------------------------------------------------------


def test_a_response_url_answer() -> None:
    assert classify_http(200, "ok", {}) is None
    limited = classify_http(429, "", {"Retry-After": "4"})
    assert limited is not None and (limited.kind, limited.retry_after) == ("rate_limited", 4.0)
    server = classify_http(502, "", {})
    assert server is not None and (server.kind, server.maybe_sent) == ("transient", True)
    expired = classify_http(404, "expired_url", {})
    assert expired is not None and (expired.kind, expired.error) == ("permanent", "http_404: expired_url")
    malformed = classify_http(400, "invalid_blocks: blocks[0].text is 3001 chars", {})
    assert malformed is not None and malformed.error == "http_400: invalid_blocks"  # no message text


def test_which_response_url_answers_mean_the_url_is_dead() -> None:
    assert response_url_gone(404, "expired_url")
    assert response_url_gone(404, "used_url")
    assert response_url_gone(404, "no_service")
    assert response_url_gone(410, "")
    assert not response_url_gone(400, "invalid_blocks: too long")
    assert not response_url_gone(500, "")
