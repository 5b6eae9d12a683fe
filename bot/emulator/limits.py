"""Block Kit limit checks shared by the Slack emulator and the tests.

Slack rejects a message or view that breaks a Block Kit limit (``invalid_blocks`` /
``invalid_arguments``), and the bot only finds out at run time. ``slack_sdk.models`` catches some of
those limits but not all of them (block counts, fallback text, view size, several lengths), so every
check is explicit (the walk over blocks and elements is ``blockkit.BlockChecker``); the slack_sdk
models are used as a second opinion for anything not covered.

All functions are pure and return human-readable violations; an empty list means "Slack would accept
this". Paths in the messages (``blocks[2].accessory.text``) point at the offending part.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .blockkit import BlockChecker

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000
UPDATE_TEXT_MAX = 4_000
VIEW_TITLE_MAX = 24  # also submit and close
VIEW_PRIVATE_METADATA_MAX = 3_000
VIEW_JSON_MAX_BYTES = 250_000


def check_message(payload: Mapping[str, Any]) -> list[str]:
    """Violations in a chat.postMessage / chat.update / response_url body (text + blocks)."""
    checker = BlockChecker()
    text = payload.get("text")
    blocks = _maybe_json(payload.get("blocks"))
    if text is not None and not isinstance(text, str):
        checker.add("text", f"must be a string, got {type(text).__name__}")
    elif isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        checker.add("text", f"is {len(text)} chars (max {MESSAGE_TEXT_MAX})")
    if blocks:
        # The top-level text is the notification and screen-reader fallback; Slack only warns, but a
        # message without it is unreadable in notifications, so it is treated as an error here.
        if not isinstance(text, str) or not text.strip():
            checker.add("text", "missing fallback text: messages with blocks need a non-empty top-level text")
        checker.blocks(blocks, max_blocks=MESSAGE_MAX_BLOCKS)
    elif blocks is not None and not isinstance(blocks, list):
        checker.add("blocks", "must be a list")
    return checker.problems


def check_view(view: Mapping[str, Any]) -> list[str]:
    """Violations in a modal or Home tab view (views.open / update / push / publish)."""
    checker = BlockChecker()
    if not isinstance(view, Mapping):
        return ["view: must be a JSON object"]
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        checker.add("view.type", f"must be 'modal' or 'home', got {view_type!r}")
    if view_type == "modal" and view.get("title") is None:
        checker.add("view.title", "a modal needs a title")
    for key in ("title", "submit", "close"):
        if view.get(key) is not None:
            checker.text(view[key], f"view.{key}", max_len=VIEW_TITLE_MAX, plain_only=True)
    metadata = view.get("private_metadata")
    if metadata is not None:
        if not isinstance(metadata, str):
            checker.add("view.private_metadata", "must be a string")
        elif len(metadata) > VIEW_PRIVATE_METADATA_MAX:
            checker.add(
                "view.private_metadata", f"is {len(metadata)} chars (max {VIEW_PRIVATE_METADATA_MAX})"
            )
    for key in ("callback_id", "external_id"):
        checker.identifier(view.get(key), f"view.{key}")
    blocks = _maybe_json(view.get("blocks"))
    if blocks is None:
        checker.add("view.blocks", "is required")
    else:
        checker.blocks(blocks, max_blocks=VIEW_MAX_BLOCKS, path="view.blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
        )
        if view_type == "modal" and has_input and view.get("submit") is None:
            checker.add("view.submit", "a modal with input blocks needs a submit button")
    try:
        size = len(json.dumps(view, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        checker.add("view", f"is not JSON-serialisable: {exc}")
    else:
        if size > VIEW_JSON_MAX_BYTES:
            checker.add("view", f"is {size} bytes of JSON (max {VIEW_JSON_MAX_BYTES})")
    return checker.problems


def check_update_text(text: str | None) -> list[str]:
    """chat.update refuses text over 4,000 chars with ``msg_too_long`` (postMessage would truncate)."""
    if isinstance(text, str) and len(text) > UPDATE_TEXT_MAX:
        return [f"text: is {len(text)} chars (max {UPDATE_TEXT_MAX} for chat.update: msg_too_long)"]
    return []


def _maybe_json(value: Any) -> Any:
    """Form-encoded API calls carry ``blocks`` as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
