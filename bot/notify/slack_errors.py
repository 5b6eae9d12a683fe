"""How to treat each kind of Slack failure: retry later, wait out a rate limit, or give up."""

from __future__ import annotations

import socket
import urllib.error
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

# Errors that will not go away by retrying: record them and tell the admins.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "messages_tab_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "team_access_not_granted",
        "ekm_access_denied",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "invalid_arguments",
        "invalid_arg_name",
        "used_url",
        "expired_url",
        "no_service",
        "invalid_token",
    }
)


@dataclass(frozen=True)
class Failure:
    kind: str  # "rate_limited" | "transient" | "permanent"
    error: str
    retry_after: float | None = None
    # The request may have reached Slack (a timeout, a 5xx): check before sending it again.
    maybe_sent: bool = False


def classify(error: BaseException) -> Failure:
    if isinstance(error, SlackApiError):
        response = error.response
        status = getattr(response, "status_code", 200)
        code = str((response.data or {}).get("error", "")) if isinstance(response.data, dict) else ""
        if status == 429 or code == "ratelimited":
            return Failure("rate_limited", code or "ratelimited", _retry_after(response.headers))
        if status >= 500:
            return Failure("transient", code or f"http_{status}", maybe_sent=True)
        if code in PERMANENT:
            return Failure("permanent", code)
        return Failure("transient", code or f"http_{status}", maybe_sent=status >= 500)
    if isinstance(error, urllib.error.HTTPError):
        if error.code == 429:
            return Failure("rate_limited", "ratelimited", _retry_after(dict(error.headers or {})))
        if error.code >= 500:
            return Failure("transient", f"http_{error.code}", maybe_sent=True)
        return Failure("permanent", f"http_{error.code}")
    if isinstance(error, (TimeoutError, socket.timeout, urllib.error.URLError, ConnectionError, OSError)):
        return Failure("transient", type(error).__name__, maybe_sent=True)
    return Failure("transient", type(error).__name__, maybe_sent=True)


def _retry_after(headers: object) -> float:
    value = None
    if isinstance(headers, dict):
        for key, raw in headers.items():
            if str(key).lower() == "retry-after":
                value = raw[0] if isinstance(raw, list) else raw
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
