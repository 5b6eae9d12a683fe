"""The reason class of an outbox row's failure, for metrics: a few fixed words instead of Slack's error
codes and our own messages, so that a metric label never holds free text and stays low in cardinality.

The classes follow what an operator does about them (see bot/notify/slack_errors.py for the codes'
sources): `recipient` (the channel or person cannot be reached: invite the bot, check the account),
`account_deactivated` (Slack says the person left), `auth` (the token or its scopes: reinstall the app),
`message` (what was sent is not valid: a template), `response_url` (the reply address expired),
`slack_unavailable` (Slack's side, transient), `network` (no answer), `compose` (the message could not be
built), `gave_up` (out of attempts), `other`.
"""

from __future__ import annotations

from bot.notify.accounts import ACCOUNT_DEACTIVATED
from bot.notify.slack_errors import TRANSIENT

_RECIPIENT = frozenset(
    {
        "channel_not_found", "not_in_channel", "is_archived", "user_not_found", "user_disabled",
        "user_not_visible", "messages_tab_disabled", "method_not_supported_for_channel_type",
        "too_many_members", "cannot_dm_bot", "restricted_action", "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
        "team_access_not_granted", "ekm_access_denied", "channel_is_archived", "message_not_found",
        "cant_update_message", "edit_window_closed", "not_found",
    }
)  # fmt: skip
_AUTH = frozenset(
    {
        "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "missing_scope",
        "not_allowed_token_type", "no_permission", "access_denied", "invalid_token",
    }
)  # fmt: skip
_MESSAGE = frozenset(
    {
        "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
        "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "invalid_arguments",
        "invalid_arg_name", "invalid_array_arg", "invalid_charset", "invalid_form_data", "invalid_post_type",
        "missing_post_type", "invalid_json", "json_not_object", "view_too_large", "invalid_view",
        "duplicate_external_id", "hash_conflict",
    }
)  # fmt: skip
_RESPONSE_URL = frozenset({"expired_url", "used_url", "no_service", "http_404", "http_410"})
# Exception class names of a call that got no answer (slack_errors.classify names the class).
_NETWORK = frozenset(
    {
        "TimeoutError", "timeout", "URLError", "ConnectionError", "ConnectionRefusedError",
        "ConnectionResetError", "RemoteDisconnected", "OSError", "IncompleteRead", "SSLError",
        "http_408",
    }
)  # fmt: skip


def reason_class(error: str | None) -> str:
    """The class of the error an outbox row recorded (`last_error`: a Slack code, `http_<status>`,
    `http_<status>: <code>`, an exception's class name, or one of the sender's own messages)."""
    text = (error or "").strip()
    if text.startswith("gave up after"):
        return "gave_up"
    if text.startswith(("could not compose", "compose:")):
        return "compose"
    if text == ACCOUNT_DEACTIVATED or text.startswith(ACCOUNT_DEACTIVATED):
        return ACCOUNT_DEACTIVATED
    code = text.split(":", 1)[0].strip()
    if code in _RESPONSE_URL or text.split(": ", 1)[-1] in _RESPONSE_URL:
        return "response_url"
    if code in _RECIPIENT or text.startswith("the message to update"):
        return "recipient"
    if code in _AUTH:
        return "auth"
    if code in _MESSAGE:
        return "message"
    if code in _NETWORK:
        return "network"
    if code in TRANSIENT or code.startswith("http_5"):
        return "slack_unavailable"
    return "other"
