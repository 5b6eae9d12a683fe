"""The ``conversations.*`` and ``chat.*`` Web API methods: DMs, channel history, posting and editing.

Each function takes the workspace and the decoded request parameters and returns the response body;
failures raise ``SlackError`` with Slack's error code.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.recipient import is_user_id

from .limits import check_update_text
from .workspace import SlackError, Workspace, invalid_arguments

HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999


def truthy(value: Any) -> bool:
    """Slack booleans arrive as true/1/"true"/"1" depending on the client's encoding."""
    return value is True or (isinstance(value, int | str) and str(value).lower() in ("1", "true"))


# -- conversations ---------------------------------------------------------------------------


def conversations_open(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """conversations.open for one person: their DM channel id; ``user_disabled`` once deactivated."""
    raw = params.get("users")
    wanted = [u.strip() for u in raw.split(",") if u.strip()] if isinstance(raw, str) else []
    if len(wanted) != 1:
        raise invalid_arguments(["the emulator opens 1:1 DMs only: pass exactly one user id in 'users'"])
    user = ws.users.get(wanted[0])
    if user is None:
        raise SlackError("user_not_found")
    if user.deleted:
        # Documented for conversations.open: "user_disabled - A specified user has been disabled."
        raise SlackError("user_disabled")
    already_open = user.dm_id in ws.opened_dms
    ws.opened_dms.add(user.dm_id)
    return {"no_op": already_open, "already_open": already_open, "channel": {"id": user.dm_id}}


def _ts(value: Any, name: str) -> Decimal:
    # Decimal, not float: "1700000000.000101" needs 16 significant digits.
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise invalid_arguments([f"{name} must be a Slack timestamp"]) from None


def conversations_join(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """The bot joins a public channel (channels:join); private ones need an invitation."""
    found = ws.channels.get(str(params.get("channel") or ""))
    if found is None:
        raise SlackError("channel_not_found")
    if found.is_archived:
        raise SlackError("is_archived")
    if found.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    already = found.bot_is_member
    found.bot_is_member = True
    return {"channel": {"id": found.id, "name": found.name, "is_member": True}, "already_in_channel": already}


def conversations_history(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """conversations.history, newest first, paged by ``cursor``; ``oldest``/``latest`` bound it."""
    channel = ws.readable_channel(params.get("channel"))
    try:
        limit = int(params.get("limit") or HISTORY_DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise invalid_arguments(["limit must be an integer"]) from None
    limit = max(1, min(limit, HISTORY_MAX_LIMIT))
    inclusive = truthy(params.get("inclusive"))
    oldest = _ts(params.get("oldest") or "0", "oldest")
    latest = _ts(params["latest"], "latest") if params.get("latest") else None
    before: Decimal | None = None
    if params.get("cursor"):
        try:
            decoded = base64.b64decode(str(params["cursor"]), validate=True).decode()
            before = Decimal(decoded.removeprefix("next_ts:"))
        except (binascii.Error, UnicodeDecodeError, InvalidOperation):
            raise SlackError("invalid_cursor") from None

    def wanted(message: dict[str, Any]) -> bool:
        ts = Decimal(message["ts"])
        # Thread replies live in conversations.replies, not in the channel history, unless they were
        # also sent to the channel (reply_broadcast).
        if (
            message.get("thread_ts")
            and message["thread_ts"] != message["ts"]
            and message.get("subtype") != "thread_broadcast"
        ):
            return False
        if ts < oldest or (ts == oldest and not inclusive):
            return False
        if latest is not None and (ts > latest or (ts == latest and not inclusive)):
            return False
        return before is None or ts < before

    newest_first = sorted(
        (m for m in ws.messages.get(channel, []) if wanted(m)), key=lambda m: Decimal(m["ts"]), reverse=True
    )
    page, has_more = newest_first[:limit], len(newest_first) > limit
    include_metadata = truthy(params.get("include_all_metadata"))
    next_cursor = base64.b64encode(f"next_ts:{page[-1]['ts']}".encode()).decode() if has_more else ""
    return {
        "messages": [ws.api_message(m, include_metadata=include_metadata) for m in page],
        "has_more": has_more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


# -- chat ------------------------------------------------------------------------------------


def _metadata(params: dict[str, Any]) -> dict[str, Any] | None:
    metadata = params.get("metadata")
    if metadata is None or metadata == "":
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return metadata


def _has_content(params: dict[str, Any]) -> bool:
    return bool(params.get("text")) or bool(params.get("blocks"))


def chat_post_message(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """chat.postMessage to a channel, a DM or a user id (their DM); text over 40,000 chars is cut."""
    channel = ws.post_target(params.get("channel"))
    if not _has_content(params):
        raise SlackError("no_text")
    metadata = _metadata(params)
    where = f"chat.postMessage ({params.get('channel')})"
    text = ws.clip_text(params.get("text"), where)
    ws.reject_invalid(where, {"text": text, "blocks": params.get("blocks")})
    thread_ts = params.get("thread_ts") or None
    broadcast = truthy(params.get("reply_broadcast"))
    message = ws.store_message(channel, text, params.get("blocks"), metadata, thread_ts, broadcast)
    return {"channel": channel, "ts": message["ts"], "message": ws.api_message(message)}


def chat_update(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """chat.update of a stored message; fields left out keep their value, text over 4,000 is refused."""
    channel = params.get("channel")
    # Unlike chat.postMessage, chat.update wants the conversation id: a user id is not resolved to a DM.
    if not isinstance(channel, str) or not channel or is_user_id(channel):
        raise SlackError("channel_not_found")
    if channel not in ws.channels and ws.user_by_dm(channel) is None:
        raise SlackError("channel_not_found")
    message = ws.find_message(channel, params.get("ts"))
    if message is None:
        raise SlackError("message_not_found")
    if "text" not in params and "blocks" not in params and "metadata" not in params:
        raise SlackError("no_text")
    if check_update_text(params.get("text")):
        raise SlackError("msg_too_long")
    # Fields left out keep their previous value (Slack retains omitted blocks on update).
    changes: dict[str, Any] = {}
    if "text" in params:
        changes["text"] = params.get("text") or ""
    if "blocks" in params:
        changes["blocks"] = params.get("blocks") or []
    if "metadata" in params:
        changes["metadata"] = _metadata(params)
    merged = {
        "text": changes.get("text", message["text"]),
        "blocks": changes.get("blocks", message["blocks"]),
    }
    ws.reject_invalid(f"chat.update ({channel} {message['ts']})", merged)
    ws.edit(message, changes)
    return {
        "channel": channel,
        "ts": message["ts"],
        "text": message["text"],
        "message": ws.api_message(message),
    }


def chat_post_ephemeral(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """chat.postEphemeral: a message only ``user`` sees in ``channel``."""
    user = ws.users.get(params.get("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    if user.deleted:
        # Deactivation removes a person from every conversation, and an ephemeral message needs its
        # recipient there: "user_not_in_channel - Intended recipient is not in the specified channel."
        raise SlackError("user_not_in_channel")
    channel = ws.post_target(params.get("channel"))
    if not _has_content(params):
        raise SlackError("no_text")
    where = f"chat.postEphemeral ({params.get('channel')} -> {user.id})"
    text = ws.clip_text(params.get("text"), where)
    ws.reject_invalid(where, {"text": text, "blocks": params.get("blocks")})
    record = ws.store_ephemeral(
        channel, user.id, text, params.get("blocks"), "chat.postEphemeral", params.get("thread_ts")
    )
    return {"message_ts": record["ts"]}
