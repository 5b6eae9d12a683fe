"""Plain-text rendering of Block Kit, roughly as a person would read it in Slack.

Used by ``accessbot demo`` to print what each person sees, and by tests that assert on visible text
rather than on block structure. It is deliberately simple: one line per visible piece, buttons as
``[Approve] [Deny]``, mrkdwn links and mentions turned into readable text, entities unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

DIVIDER = "-" * 40

# <https://x|label>, <@U123>, <#C123|name>, <!here>, <!subteam^S1|@team>
_TOKEN = re.compile(r"<([^<>]+)>")


def blocks_to_text(blocks: Sequence[Mapping[str, Any]] | None, fallback: str = "") -> str:
    """Readable text of ``blocks``; ``fallback`` (the message's top-level text) when there are none."""
    if not blocks:
        return mrkdwn_to_text(fallback)
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Mapping):
            lines.extend(_render_block(block))
    return "\n".join(lines)


def block_texts(blocks: Sequence[Mapping[str, Any]] | None) -> str:
    """Short name for ``blocks_to_text(blocks)``, handy in assertions."""
    return blocks_to_text(blocks)


def message_to_text(message: Mapping[str, Any]) -> str:
    """What a person sees for a stored message: its blocks, or its text when it has none."""
    return blocks_to_text(message.get("blocks"), fallback=message.get("text") or "")


def mrkdwn_to_text(text: str | None) -> str:
    """Turn Slack's control sequences into display text, then unescape ``&lt; &gt; &amp;``.

    Links and mentions are rewritten first, so an escaped ``&lt;!channel&gt;`` written by a user stays
    literal text and is never mistaken for a real mention.
    """
    if not text:
        return ""
    return _unescape(_TOKEN.sub(_render_token, text))


def _render_token(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@" + target.removeprefix("!subteam^")
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return "@" + target[1:]
    return f"{label} ({target})" if label and label != target else target


def _unescape(text: str) -> str:
    # &amp; last, so "&amp;lt;" (a user literally typing "&lt;") renders as "&lt;".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any) -> str:
    if isinstance(obj, Mapping):
        value = obj.get("text") or ""
        return mrkdwn_to_text(value) if obj.get("type") == "mrkdwn" else _unescape(value)
    if isinstance(obj, str):
        return mrkdwn_to_text(obj)
    return ""


def _render_block(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title, "=" * len(title)]
    if kind == "section":
        lines = [_text(block["text"])] if block.get("text") else []
        lines += [f"  {_text(field)}" for field in block.get("fields") or []]
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            lines.append(f"  {_render_element(accessory)}")
        return lines
    if kind == "context":
        parts = [
            f"[image: {el.get('alt_text', '')}]"
            if isinstance(el, Mapping) and el.get("type") == "image"
            else _text(el)
            for el in block.get("elements") or []
        ]
        return ["  ".join(parts)]
    if kind == "divider":
        return [DIVIDER]
    if kind == "actions":
        return [
            " ".join(_render_element(el) for el in block.get("elements") or [] if isinstance(el, Mapping))
        ]
    if kind == "input":
        optional = " (optional)" if block.get("optional") else ""
        element = block.get("element")
        rendered = _render_element(element) if isinstance(element, Mapping) else ""
        lines = [f"{_text(block.get('label'))}{optional}: {rendered}"]
        if block.get("hint"):
            lines.append(f"  ({_text(block['hint'])})")
        return lines
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "markdown":
        return [str(block.get("text", ""))]
    if kind == "rich_text":
        return ["".join(_rich_text(el) for el in block.get("elements") or []).rstrip("\n")]
    return [f"[{kind}]"]


def _render_element(element: Mapping[str, Any]) -> str:
    kind = str(element.get("type"))
    placeholder = _text(element.get("placeholder"))
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind.endswith("_select") or kind.startswith("multi_"):
        initial = element.get("initial_option")
        shown = _text(initial.get("text")) if isinstance(initial, Mapping) else placeholder
        return f"[select: {shown}]" if shown else "[select]"
    if kind in ("checkboxes", "radio_buttons"):
        options = [_text(o.get("text")) for o in element.get("options") or [] if isinstance(o, Mapping)]
        return f"[{kind}: {', '.join(options)}]"
    if kind == "overflow":
        return "[...]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    label = kind.replace("_", " ")
    return f"[{label}: {placeholder}]" if placeholder else f"[{label}]"


def _rich_text(element: Any) -> str:
    """Flatten rich_text sections, lists and quotes to their text."""
    if not isinstance(element, Mapping):
        return ""
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        return str(element.get("text") or element.get("url", ""))
    if kind == "user":
        return f"@{element.get('user_id', '')}"
    if kind == "channel":
        return f"#{element.get('channel_id', '')}"
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    children = "".join(_rich_text(child) for child in element.get("elements") or [])
    return children + (
        "\n" if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote") else ""
    )
