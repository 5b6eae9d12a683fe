"""How to treat each kind of Slack failure: wait out a rate limit, retry later, or give up at once.

Sources: the error lists of the method pages for every Web API method AccessBot calls
(https://api.slack.com/methods/<method>: chat.postMessage, chat.update, conversations.open,
conversations.history, conversations.join, views.open, views.publish, users.info, auth.test), as
mirrored in machine-readable form by slack-ruby/slack-api-ref (`methods/*/<method>.json`), the rate
limit page (https://api.slack.com/apis/rate-limits: HTTP 429 with `Retry-After`) and, for response
URLs, the interactivity guide (https://api.slack.com/interactivity/handling#message_responses: up to 5
uses within 30 minutes). Slack does not document the body of a response_url's refusal; a 404/410, or
a body naming `expired_url`, `used_url` or `no_service`, is taken to mean the URL is dead.

The rule is an allow-list of what Slack documents as passing: the errors below say the server, the
network or a migration got in the way ("temporarily unavailable", "likely due to a transient issue",
"until the transition is complete"). Every other documented code names something about the request,
the token, the channel or the person that the same request will hit again (`user_disabled`,
`user_not_visible`, `channel_not_found`, `method_not_supported_for_channel_type`, `too_many_members`,
`invalid_blocks`, `missing_scope`, `token_revoked`, …), so an unknown code is permanent too: a retry
loop cannot fix it, and a person must (re-invite the bot, fix a template, reinstall the app).
"""

from __future__ import annotations

import urllib.error
from dataclasses import dataclass
from typing import Literal

from slack_sdk.errors import SlackApiError

FailureKind = Literal["rate_limited", "transient", "permanent"]

# Documented as a rate limit: wait for Retry-After (default 1 s) without counting a failed attempt.
# `rate_limited` is chat.postMessage's older spelling ("Application has posted too many messages").
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})

# Documented as passing. Each is in the error list of at least one method the bot calls.
TRANSIENT = frozenset(
    {
        "internal_error",  # "likely due to a transient issue on our end"
        "fatal_error",  # "catastrophic error"; some of the operation may have succeeded
        "service_unavailable",  # "The service is temporarily unavailable."
        "request_timeout",  # "the POST data was either missing or truncated" (lost on the way)
        "team_added_to_org",  # "intermittently unavailable until the transition is complete"
        "org_login_required",  # "not be available until migration is complete"
        "message_limit_exceeded",  # free workspaces: members are sending too many messages for now
        "external_channel_migrating",  # chat.update: "cannot be updated at this time"
        "update_failed",  # chat.update: "Internal update failure."
        "streaming_state_conflict",  # chat.update: the message "is currently streaming"
    }
)

# Slack says some of these may have been carried out before the error was raised: before sending a
# post again, look whether it arrived.
MAYBE_APPLIED = frozenset({"internal_error", "fatal_error"})

# What a response_url may answer once it no longer works (5 uses or 30 minutes are over, or it never
# existed). The body is not documented, so a 404 or 410 counts as well (see response_url_gone).
RESPONSE_URL_GONE = frozenset({"expired_url", "used_url", "no_service"})


@dataclass(frozen=True)
class Failure:
    """One failed Slack call, classified.

    `error` is Slack's error code (or `http_<status>` / the exception's class name), safe to log and
    store: it never holds a token or a message body. `retry_after` is in seconds (rate limits only).
    """

    kind: FailureKind
    error: str
    retry_after: float | None = None
    # The request may have reached Slack (a timeout, a 5xx, internal_error): check before sending again.
    maybe_sent: bool = False


def is_transient(code: str) -> bool:
    """Whether a Slack error code is worth retrying (rate limits included)."""
    return code in TRANSIENT or code in RATE_LIMITED


def error_code(error: BaseException) -> str | None:
    """Slack's error code from a failed Web API call (`SlackApiError`), else None."""
    if isinstance(error, SlackApiError) and isinstance(error.response.data, dict):
        code = error.response.data.get("error")
        return str(code) if code else None
    return None


def classify(error: BaseException) -> Failure:
    """Rate limited, transient or permanent, from what Slack (or the network) answered.

    HTTP 429 or `ratelimited`: rate limited. HTTP 5xx, HTTP 408, the TRANSIENT codes and network
    errors (timeouts, refused or reset connections): transient. Any other Slack error code, and
    any other HTTP 4xx: permanent. An exception that is none of these (a bug) is transient, with
    `maybe_sent`, so that a retry checks before posting again.
    """
    if isinstance(error, SlackApiError):
        response = error.response
        status = int(getattr(response, "status_code", 200) or 200)
        code = error_code(error) or ""
        if status == 429 or code in RATE_LIMITED:
            return Failure("rate_limited", code or "ratelimited", _retry_after(response.headers))
        if status >= 500:
            return Failure("transient", code or f"http_{status}", maybe_sent=True)
        if code in TRANSIENT:
            return Failure("transient", code, maybe_sent=code in MAYBE_APPLIED)
        if not code and status == 408:
            return Failure("transient", "http_408")
        return Failure("permanent", code or f"http_{status}")
    if isinstance(error, urllib.error.HTTPError):
        if error.code == 429:
            return Failure("rate_limited", "ratelimited", _retry_after(dict(error.headers or {})))
        if error.code >= 500:
            return Failure("transient", f"http_{error.code}", maybe_sent=True)
        if error.code == 408:
            return Failure("transient", "http_408")
        return Failure("permanent", f"http_{error.code}")
    # Timeouts, refused or reset connections (OSError covers them, and URLError) and, last, anything
    # unexpected: transient, and the call may have got through.
    return Failure("transient", type(error).__name__, maybe_sent=True)


def classify_http(status: int, body: str, headers: object) -> Failure | None:
    """A response_url answer (HTTP status and plain-text body): None for success (200).

    429: rate limited. 5xx and 408: transient. A 4xx whose body names a dead URL (or a 404/410): the
    URL no longer works, permanent with that code; any other 4xx (e.g. 400 `invalid_blocks`):
    permanent, `http_<status>: <code>`.
    """
    if status == 200:
        return None
    code = body.strip().split(":", 1)[0][:100] if body else ""
    if status == 429:
        return Failure("rate_limited", "ratelimited", _retry_after(headers))
    if status >= 500:
        return Failure("transient", f"http_{status}", maybe_sent=True)
    if status == 408:
        return Failure("transient", "http_408")
    return Failure("permanent", f"http_{status}: {code}" if code else f"http_{status}")


def response_url_gone(status: int, body: str) -> bool:
    """Whether a response_url answer says the URL will never work again (expired, used up, unknown)."""
    code = body.strip().split(":", 1)[0] if body else ""
    return code in RESPONSE_URL_GONE or status in (404, 410)


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
