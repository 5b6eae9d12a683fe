"""POSTs to response URLs, answered the way hooks.slack.com answers them.

A response URL belongs to one interaction (``Workspace.new_response_url``). Slack lets an app use it
"up to 5 times within 30 minutes" (api.slack.com/interactivity/handling#message_responses) to reply
ephemerally, post in the channel, or replace or delete the message the interaction came from.
"""

from __future__ import annotations

import json
from typing import Any

from .limits import check_message
from .workspace import ResponseUrl, Workspace

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60.0  # seconds


def respond(ws: Workspace, url_id: str, raw: bytes) -> tuple[int, str]:
    """A POST of ``raw`` (JSON) to response URL ``url_id``: returns (HTTP status, text body).

    Every POST is recorded in the URL's ``posts`` (``url_id, at, raw, body, status, answer, result``).
    """
    target = ws.response_urls.get(url_id)
    if target is None:
        return 404, "no_service"
    post: dict[str, Any] = {"url_id": url_id, "at": ws.clock(), "raw": raw.decode("utf-8", "replace")}
    target.posts.append(post)
    status, text = _respond(ws, target, raw, post)
    post["status"], post["answer"] = status, text
    return status, text


def _respond(ws: Workspace, target: ResponseUrl, raw: bytes, post: dict[str, Any]) -> tuple[int, str]:
    # Slack documents the limits (5 uses, 30 minutes) but not the refusal's body; hooks.slack.com
    # refuses a dead URL with HTTP 404 and a short code, as it does an unknown one (no_service).
    if ws.now() - target.created > RESPONSE_URL_TTL:
        return 404, "expired_url"
    if target.uses >= RESPONSE_URL_MAX_USES:
        return 404, "used_url"
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return 400, "invalid_payload"
    if not isinstance(body, dict):
        return 400, "invalid_payload"
    post["body"] = body
    where = f"response_url ({target.user_id} in {target.channel_id})"
    original = _original(ws, target)
    if body.get("delete_original"):
        target.uses += 1
        if original is not None:
            bucket = ws.ephemerals if target.ephemeral else ws.messages[target.channel_id]
            bucket.remove(original)
            ws.deleted_messages.append(original)
        post["result"] = "deleted" if original is not None else "nothing_to_delete"
        return 200, "ok"
    body["text"] = ws.clip_text(body.get("text"), where)
    problems = check_message(body)
    if problems:
        ws.violations.extend(f"{where}: {problem}" for problem in problems)
        return 400, "invalid_blocks: " + "; ".join(problems)
    target.uses += 1
    text, blocks = body.get("text"), body.get("blocks")
    if body.get("replace_original") and original is not None:
        ws.edit(original, {"text": text or "", "blocks": blocks or []})
        post["result"] = "replaced"
    elif body.get("response_type") == "in_channel":
        message = ws.store_message(target.channel_id, text, blocks, thread_ts=body.get("thread_ts"))
        post["result"], post["ts"] = "in_channel", message["ts"]
    else:
        record = ws.store_ephemeral(target.channel_id, target.user_id, text, blocks, "response_url")
        post["result"], post["ts"] = "ephemeral", record["ts"]
    return 200, "ok"


def _original(ws: Workspace, target: ResponseUrl) -> dict[str, Any] | None:
    """The message the interaction came from, if the emulator stored it."""
    if target.message_ts is None:
        return None
    if target.ephemeral:
        return next(
            (e for e in ws.ephemerals if e["ts"] == target.message_ts and e["user"] == target.user_id),
            None,
        )
    return ws.find_message(target.channel_id, target.message_ts)
