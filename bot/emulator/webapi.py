"""The Web API methods the bot uses, answered the way Slack answers them.

Each method takes the workspace and the decoded request parameters and returns the response body;
failures raise ``SlackError`` with Slack's error code. Only the methods and errors AccessBot relies on
are modelled; anything else is ``unknown_method``. This module holds the registry and the auth/users
methods; ``chat`` and ``views`` hold the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import chat, views
from .workspace import SlackError, Workspace

Handler = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


def auth_test(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """auth.test: who the token belongs to (the bot user in this team)."""
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": "accessbot",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """A deactivated person is still found, with ``deleted: true`` (how a bot learns someone left)."""
    user = ws.users.get(params.get("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"user": ws.user_object(user)}


def users_lookup_by_email(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """users.lookupByEmail, case-insensitive; ``users_not_found`` when nobody has that address."""
    email = params.get("email")
    user = ws.user_by_email(email) if isinstance(email, str) else None
    if user is None:
        raise SlackError("users_not_found")
    # Deactivated accounts are returned with deleted=true: callers must check it.
    return {"user": ws.user_object(user)}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": chat.chat_post_message,
    "chat.update": chat.chat_update,
    "chat.postEphemeral": chat.chat_post_ephemeral,
    "conversations.open": chat.conversations_open,
    "conversations.history": chat.conversations_history,
    "conversations.join": chat.conversations_join,
    "views.open": views.views_open,
    "views.push": views.views_push,
    "views.update": views.views_update,
    "views.publish": views.views_publish,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
}


def call(ws: Workspace, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run one method: (HTTP status, Slack-shaped body)."""
    handler = METHODS.get(method)
    if handler is None:
        return 200, {"ok": False, "error": "unknown_method"}
    try:
        return 200, {"ok": True, **handler(ws, params)}
    except SlackError as exc:
        return exc.status, {"ok": False, "error": exc.code, **exc.extra}
