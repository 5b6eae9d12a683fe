"""Block Kit limit checks shared by the Slack emulator and the tests.

Slack rejects a message or view that breaks a Block Kit limit (``invalid_blocks`` /
``invalid_arguments``), and the bot only finds out at run time. ``slack_sdk.models`` catches some of
those limits but not all of them (block counts, fallback text, view size, several lengths), so every
check here is explicit; the slack_sdk models are used as a second opinion for anything not covered.

All functions are pure and return human-readable violations; an empty list means "Slack would accept
this". Paths in the messages (``blocks[2].accessory.text``) point at the offending part.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000
UPDATE_TEXT_MAX = 4_000
SECTION_TEXT_MAX = 3_000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2_000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2_000
URL_MAX = 3_000
ID_MAX = 255  # action_id, block_id, callback_id, external_id
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTION_DESCRIPTION_MAX = 75
SELECT_OPTIONS_MAX = 100
OVERFLOW_OPTIONS_MAX = 5
CHOICE_OPTIONS_MAX = 10  # checkboxes, radio_buttons
INPUT_LABEL_MAX = 2_000
INPUT_HINT_MAX = 2_000
PLACEHOLDER_MAX = 150
PLAIN_TEXT_INPUT_MAX = 3_000
IMAGE_ALT_TEXT_MAX = 2_000
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
VIEW_TITLE_MAX = 24  # also submit and close
VIEW_PRIVATE_METADATA_MAX = 3_000
VIEW_JSON_MAX_BYTES = 250_000

_SELECT_TYPES = {"static_select", "multi_static_select"}
_CHOICE_TYPES = {"checkboxes", "radio_buttons"}


def check_message(payload: Mapping[str, Any]) -> list[str]:
    """Violations in a chat.postMessage / chat.update / response_url body (text + blocks)."""
    checker = _Checker()
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
    checker = _Checker()
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


class _Checker:
    """Collects violations while walking blocks; one instance per check_* call."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # -- building blocks -------------------------------------------------------------------------

    def text(
        self,
        obj: Any,
        path: str,
        *,
        max_len: int,
        min_len: int = 1,
        plain_only: bool = False,
    ) -> None:
        if not isinstance(obj, Mapping):
            self.add(path, f"must be a text object ({{'type': ..., 'text': ...}}), got {type(obj).__name__}")
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.add(path, f"type must be {' or '.join(allowed)}, got {kind!r}")
        value = obj.get("text")
        if not isinstance(value, str):
            self.add(path, "text must be a string")
            return
        if len(value) < min_len:
            self.add(path, f"text must be at least {min_len} char(s)")
        if len(value) > max_len:
            self.add(path, f"text is {len(value)} chars (max {max_len})")

    def optional_text(self, obj: Any, path: str, *, max_len: int, plain_only: bool = False) -> None:
        if obj is not None:
            self.text(obj, path, max_len=max_len, plain_only=plain_only)

    def identifier(self, value: Any, path: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, "must be a string")
        elif len(value) > ID_MAX:
            self.add(path, f"is {len(value)} chars (max {ID_MAX})")

    def length(self, value: Any, path: str, max_len: int) -> None:
        if isinstance(value, str) and len(value) > max_len:
            self.add(path, f"is {len(value)} chars (max {max_len})")

    # -- blocks ----------------------------------------------------------------------------------

    def blocks(self, blocks: Any, *, max_blocks: int, path: str = "blocks") -> None:
        if not isinstance(blocks, list):
            self.add(path, "must be a list of blocks")
            return
        if len(blocks) > max_blocks:
            self.add(path, f"has {len(blocks)} blocks (max {max_blocks})")
        seen_ids: set[str] = set()
        for index, block in enumerate(blocks):
            block_path = f"{path}[{index}]"
            if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
                self.add(block_path, "must be an object with a 'type'")
                continue
            block_id = block.get("block_id")
            if isinstance(block_id, str):
                if block_id in seen_ids:
                    self.add(f"{block_path}.block_id", f"duplicate block_id {block_id!r}")
                seen_ids.add(block_id)
            before = len(self.problems)
            self.block(block, block_path)
            if len(self.problems) == before:
                # slack_sdk as a second opinion, only when the explicit checks found nothing, so one
                # mistake is not reported twice in two wordings.
                self.sdk_block(block, block_path)

    def sdk_block(self, block: Mapping[str, Any], path: str) -> None:
        try:
            parsed = Block.parse(dict(block))
            if parsed is None:
                self.add(path, f"unknown block type {block.get('type')!r}")
                return
            parsed.to_dict()
        except SlackObjectFormationError as exc:
            self.add(path, f"invalid {block.get('type')} block: {exc}")
        except Exception as exc:  # slack_sdk raises TypeError/KeyError/... on malformed input
            self.add(path, f"invalid {block.get('type')} block ({type(exc).__name__}): {exc}")

    def block(self, block: Mapping[str, Any], path: str) -> None:
        self.identifier(block.get("block_id"), f"{path}.block_id")
        kind = block["type"]
        if kind == "section":
            self.section(block, path)
        elif kind == "header":
            if block.get("text") is None:
                self.add(f"{path}.text", "a header needs text")
            else:
                self.text(block["text"], f"{path}.text", max_len=HEADER_TEXT_MAX, plain_only=True)
        elif kind == "context":
            self.context(block, path)
        elif kind == "actions":
            self.actions(block, path)
        elif kind == "input":
            self.input(block, path)
        elif kind == "image":
            self.image(block, path)
        # divider, rich_text, markdown, video, file...: the slack_sdk parse covers them.

    def section(self, block: Mapping[str, Any], path: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            self.add(path, "a section needs text or fields")
        if text is not None:
            self.text(text, f"{path}.text", max_len=SECTION_TEXT_MAX)
        if fields is not None:
            if not isinstance(fields, list):
                self.add(f"{path}.fields", "must be a list")
            else:
                if len(fields) > SECTION_FIELDS_MAX:
                    self.add(f"{path}.fields", f"has {len(fields)} fields (max {SECTION_FIELDS_MAX})")
                for i, field in enumerate(fields):
                    self.text(field, f"{path}.fields[{i}]", max_len=SECTION_FIELD_TEXT_MAX)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{path}.accessory")

    def context(self, block: Mapping[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}.elements", "a context block needs a non-empty list of elements")
            return
        if len(elements) > CONTEXT_ELEMENTS_MAX:
            self.add(f"{path}.elements", f"has {len(elements)} elements (max {CONTEXT_ELEMENTS_MAX})")
        for i, element in enumerate(elements):
            element_path = f"{path}.elements[{i}]"
            if isinstance(element, Mapping) and element.get("type") == "image":
                self.image(element, element_path)
            else:
                self.text(element, element_path, max_len=SECTION_TEXT_MAX)

    def actions(self, block: Mapping[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}.elements", "an actions block needs a non-empty list of elements")
            return
        if len(elements) > ACTIONS_ELEMENTS_MAX:
            self.add(f"{path}.elements", f"has {len(elements)} elements (max {ACTIONS_ELEMENTS_MAX})")
        seen: set[str] = set()
        for i, element in enumerate(elements):
            self.element(element, f"{path}.elements[{i}]")
            action_id = element.get("action_id") if isinstance(element, Mapping) else None
            if isinstance(action_id, str):
                # Slack needs action_ids unique within a block to tell the elements apart.
                if action_id in seen:
                    self.add(f"{path}.elements[{i}].action_id", f"duplicate action_id {action_id!r}")
                seen.add(action_id)

    def input(self, block: Mapping[str, Any], path: str) -> None:
        if block.get("label") is None:
            self.add(f"{path}.label", "an input block needs a label")
        else:
            self.text(block["label"], f"{path}.label", max_len=INPUT_LABEL_MAX, plain_only=True)
        self.optional_text(block.get("hint"), f"{path}.hint", max_len=INPUT_HINT_MAX, plain_only=True)
        if block.get("element") is None:
            self.add(f"{path}.element", "an input block needs an element")
        else:
            self.element(block["element"], f"{path}.element")

    def image(self, obj: Mapping[str, Any], path: str) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.add(path, "an image needs image_url or slack_file")
        self.length(obj.get("image_url"), f"{path}.image_url", URL_MAX)
        alt = obj.get("alt_text")
        if not isinstance(alt, str) or not alt:
            self.add(f"{path}.alt_text", "an image needs alt_text")
        else:
            self.length(alt, f"{path}.alt_text", IMAGE_ALT_TEXT_MAX)
        if obj.get("title") is not None:
            self.text(obj["title"], f"{path}.title", max_len=IMAGE_ALT_TEXT_MAX, plain_only=True)

    # -- elements --------------------------------------------------------------------------------

    def element(self, element: Any, path: str) -> None:
        if not isinstance(element, Mapping) or not isinstance(element.get("type"), str):
            self.add(path, "must be an element object with a 'type'")
            return
        kind = element["type"]
        self.identifier(element.get("action_id"), f"{path}.action_id")
        if element.get("placeholder") is not None:
            self.text(element["placeholder"], f"{path}.placeholder", max_len=PLACEHOLDER_MAX, plain_only=True)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{path}.confirm")
        if kind == "button":
            if element.get("text") is None:
                self.add(f"{path}.text", "a button needs text")
            else:
                self.text(element["text"], f"{path}.text", max_len=BUTTON_TEXT_MAX, plain_only=True)
            self.length(element.get("value"), f"{path}.value", BUTTON_VALUE_MAX)
            self.length(element.get("url"), f"{path}.url", URL_MAX)
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.add(f"{path}.style", f"must be 'primary' or 'danger', got {style!r}")
        elif kind in _SELECT_TYPES:
            self.select_options(element, path)
        elif kind == "overflow":
            self.options(element.get("options"), f"{path}.options", limit=OVERFLOW_OPTIONS_MAX)
        elif kind in _CHOICE_TYPES:
            self.options(element.get("options"), f"{path}.options", limit=CHOICE_OPTIONS_MAX, mrkdwn=True)
        elif kind == "plain_text_input":
            self.plain_text_input(element, path)
        elif kind == "image":
            self.image(element, path)
        for key in ("initial_option",):
            if element.get(key) is not None:
                self.option(element[key], f"{path}.{key}", mrkdwn=kind in _CHOICE_TYPES)
        initial = element.get("initial_options")
        if isinstance(initial, list):
            for i, option in enumerate(initial):
                self.option(option, f"{path}.initial_options[{i}]", mrkdwn=kind in _CHOICE_TYPES)

    def select_options(self, element: Mapping[str, Any], path: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is None and groups is None:
            self.add(path, "a static select needs options or option_groups")
        if options is not None and groups is not None:
            self.add(path, "a static select takes options or option_groups, not both")
        if options is not None:
            self.options(options, f"{path}.options", limit=SELECT_OPTIONS_MAX)
        if groups is not None:
            if not isinstance(groups, list):
                self.add(f"{path}.option_groups", "must be a list")
                return
            if len(groups) > SELECT_OPTIONS_MAX:
                self.add(f"{path}.option_groups", f"has {len(groups)} groups (max {SELECT_OPTIONS_MAX})")
            for i, group in enumerate(groups):
                group_path = f"{path}.option_groups[{i}]"
                if not isinstance(group, Mapping):
                    self.add(group_path, "must be an option group object")
                    continue
                self.text(group.get("label"), f"{group_path}.label", max_len=OPTION_TEXT_MAX, plain_only=True)
                self.options(group.get("options"), f"{group_path}.options", limit=SELECT_OPTIONS_MAX)

    def options(self, options: Any, path: str, *, limit: int, mrkdwn: bool = False) -> None:
        if not isinstance(options, list) or not options:
            self.add(path, "must be a non-empty list of options")
            return
        if len(options) > limit:
            self.add(path, f"has {len(options)} options (max {limit})")
        for i, option in enumerate(options):
            self.option(option, f"{path}[{i}]", mrkdwn=mrkdwn)

    def option(self, option: Any, path: str, *, mrkdwn: bool = False) -> None:
        if not isinstance(option, Mapping):
            self.add(path, "must be an option object")
            return
        self.text(option.get("text"), f"{path}.text", max_len=OPTION_TEXT_MAX, plain_only=not mrkdwn)
        value = option.get("value")
        if not isinstance(value, str):
            self.add(f"{path}.value", "an option needs a string value")
        else:
            self.length(value, f"{path}.value", OPTION_VALUE_MAX)
        self.optional_text(option.get("description"), f"{path}.description", max_len=OPTION_DESCRIPTION_MAX)

    def plain_text_input(self, element: Mapping[str, Any], path: str) -> None:
        max_length, min_length = element.get("max_length"), element.get("min_length")
        if max_length is not None and (
            not isinstance(max_length, int) or not 1 <= max_length <= PLAIN_TEXT_INPUT_MAX
        ):
            self.add(f"{path}.max_length", f"must be 1..{PLAIN_TEXT_INPUT_MAX}, got {max_length!r}")
        if min_length is not None and (
            not isinstance(min_length, int) or not 0 <= min_length <= PLAIN_TEXT_INPUT_MAX
        ):
            self.add(f"{path}.min_length", f"must be 0..{PLAIN_TEXT_INPUT_MAX}, got {min_length!r}")
        if isinstance(max_length, int) and isinstance(min_length, int) and min_length > max_length:
            self.add(path, f"min_length {min_length} is greater than max_length {max_length}")

    def confirm(self, confirm: Any, path: str) -> None:
        if not isinstance(confirm, Mapping):
            self.add(path, "must be a confirmation dialog object")
            return
        self.text(confirm.get("title"), f"{path}.title", max_len=CONFIRM_TITLE_MAX, plain_only=True)
        self.text(confirm.get("text"), f"{path}.text", max_len=CONFIRM_TEXT_MAX)
        self.text(confirm.get("confirm"), f"{path}.confirm", max_len=CONFIRM_BUTTON_MAX, plain_only=True)
        self.text(confirm.get("deny"), f"{path}.deny", max_len=CONFIRM_BUTTON_MAX, plain_only=True)
