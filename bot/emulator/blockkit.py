"""Walking Block Kit blocks and elements against Slack's documented limits.

``BlockChecker`` collects human-readable violations (``blocks[2].accessory.text: ...``) while it walks;
``limits`` builds the message and view checks on it. Every limit is checked explicitly, because
``slack_sdk.models`` catches only some of them; its parser is a second opinion for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

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

_SELECT_TYPES = {"static_select", "multi_static_select"}
_CHOICE_TYPES = {"checkboxes", "radio_buttons"}


class BlockChecker:
    """Collects violations while walking blocks; one instance per check."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        """Record one violation: ``path`` names the offending part, ``message`` what is wrong."""
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
        """Check a text object (``{"type": "plain_text" | "mrkdwn", "text": ...}``) and its length."""
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

    def _optional_text(self, obj: Any, path: str, *, max_len: int, plain_only: bool = False) -> None:
        if obj is not None:
            self.text(obj, path, max_len=max_len, plain_only=plain_only)

    def identifier(self, value: Any, path: str) -> None:
        """Check an optional id (action_id, block_id, callback_id, external_id): a string of 255 max."""
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, "must be a string")
        elif len(value) > ID_MAX:
            self.add(path, f"is {len(value)} chars (max {ID_MAX})")

    def _length(self, value: Any, path: str, max_len: int) -> None:
        if isinstance(value, str) and len(value) > max_len:
            self.add(path, f"is {len(value)} chars (max {max_len})")

    # -- blocks ----------------------------------------------------------------------------------

    def blocks(self, blocks: Any, *, max_blocks: int, path: str = "blocks") -> None:
        """Check a list of at most ``max_blocks`` blocks, their unique block_ids, and each block."""
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
            self._block(block, block_path)
            if len(self.problems) == before:
                # slack_sdk as a second opinion, only when the explicit checks found nothing, so one
                # mistake is not reported twice in two wordings.
                self._sdk_block(block, block_path)

    def _sdk_block(self, block: Mapping[str, Any], path: str) -> None:
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

    def _block(self, block: Mapping[str, Any], path: str) -> None:
        self.identifier(block.get("block_id"), f"{path}.block_id")
        kind = block["type"]
        if kind == "section":
            self._section(block, path)
        elif kind == "header":
            if block.get("text") is None:
                self.add(f"{path}.text", "a header needs text")
            else:
                self.text(block["text"], f"{path}.text", max_len=HEADER_TEXT_MAX, plain_only=True)
        elif kind == "context":
            self._context(block, path)
        elif kind == "actions":
            self._actions(block, path)
        elif kind == "input":
            self._input(block, path)
        elif kind == "image":
            self._image(block, path)
        # divider, rich_text, markdown, video, file...: the slack_sdk parse covers them.

    def _section(self, block: Mapping[str, Any], path: str) -> None:
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
            self._element(block["accessory"], f"{path}.accessory")

    def _context(self, block: Mapping[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}.elements", "a context block needs a non-empty list of elements")
            return
        if len(elements) > CONTEXT_ELEMENTS_MAX:
            self.add(f"{path}.elements", f"has {len(elements)} elements (max {CONTEXT_ELEMENTS_MAX})")
        for i, element in enumerate(elements):
            element_path = f"{path}.elements[{i}]"
            if isinstance(element, Mapping) and element.get("type") == "image":
                self._image(element, element_path)
            else:
                self.text(element, element_path, max_len=SECTION_TEXT_MAX)

    def _actions(self, block: Mapping[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add(f"{path}.elements", "an actions block needs a non-empty list of elements")
            return
        if len(elements) > ACTIONS_ELEMENTS_MAX:
            self.add(f"{path}.elements", f"has {len(elements)} elements (max {ACTIONS_ELEMENTS_MAX})")
        seen: set[str] = set()
        for i, element in enumerate(elements):
            self._element(element, f"{path}.elements[{i}]")
            action_id = element.get("action_id") if isinstance(element, Mapping) else None
            if isinstance(action_id, str):
                # Slack needs action_ids unique within a block to tell the elements apart.
                if action_id in seen:
                    self.add(f"{path}.elements[{i}].action_id", f"duplicate action_id {action_id!r}")
                seen.add(action_id)

    def _input(self, block: Mapping[str, Any], path: str) -> None:
        if block.get("label") is None:
            self.add(f"{path}.label", "an input block needs a label")
        else:
            self.text(block["label"], f"{path}.label", max_len=INPUT_LABEL_MAX, plain_only=True)
        self._optional_text(block.get("hint"), f"{path}.hint", max_len=INPUT_HINT_MAX, plain_only=True)
        if block.get("element") is None:
            self.add(f"{path}.element", "an input block needs an element")
        else:
            self._element(block["element"], f"{path}.element")

    def _image(self, obj: Mapping[str, Any], path: str) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.add(path, "an image needs image_url or slack_file")
        self._length(obj.get("image_url"), f"{path}.image_url", URL_MAX)
        alt = obj.get("alt_text")
        if not isinstance(alt, str) or not alt:
            self.add(f"{path}.alt_text", "an image needs alt_text")
        else:
            self._length(alt, f"{path}.alt_text", IMAGE_ALT_TEXT_MAX)
        if obj.get("title") is not None:
            self.text(obj["title"], f"{path}.title", max_len=IMAGE_ALT_TEXT_MAX, plain_only=True)

    # -- elements --------------------------------------------------------------------------------

    def _element(self, element: Any, path: str) -> None:
        if not isinstance(element, Mapping) or not isinstance(element.get("type"), str):
            self.add(path, "must be an element object with a 'type'")
            return
        kind = element["type"]
        self.identifier(element.get("action_id"), f"{path}.action_id")
        if element.get("placeholder") is not None:
            self.text(element["placeholder"], f"{path}.placeholder", max_len=PLACEHOLDER_MAX, plain_only=True)
        if element.get("confirm") is not None:
            self._confirm(element["confirm"], f"{path}.confirm")
        if kind == "button":
            if element.get("text") is None:
                self.add(f"{path}.text", "a button needs text")
            else:
                self.text(element["text"], f"{path}.text", max_len=BUTTON_TEXT_MAX, plain_only=True)
            self._length(element.get("value"), f"{path}.value", BUTTON_VALUE_MAX)
            self._length(element.get("url"), f"{path}.url", URL_MAX)
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.add(f"{path}.style", f"must be 'primary' or 'danger', got {style!r}")
        elif kind in _SELECT_TYPES:
            self._select_options(element, path)
        elif kind == "overflow":
            self._options(element.get("options"), f"{path}.options", limit=OVERFLOW_OPTIONS_MAX)
        elif kind in _CHOICE_TYPES:
            self._options(element.get("options"), f"{path}.options", limit=CHOICE_OPTIONS_MAX, mrkdwn=True)
        elif kind == "plain_text_input":
            self._plain_text_input(element, path)
        elif kind == "image":
            self._image(element, path)
        for key in ("initial_option",):
            if element.get(key) is not None:
                self._option(element[key], f"{path}.{key}", mrkdwn=kind in _CHOICE_TYPES)
        initial = element.get("initial_options")
        if isinstance(initial, list):
            for i, option in enumerate(initial):
                self._option(option, f"{path}.initial_options[{i}]", mrkdwn=kind in _CHOICE_TYPES)

    def _select_options(self, element: Mapping[str, Any], path: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is None and groups is None:
            self.add(path, "a static select needs options or option_groups")
        if options is not None and groups is not None:
            self.add(path, "a static select takes options or option_groups, not both")
        if options is not None:
            self._options(options, f"{path}.options", limit=SELECT_OPTIONS_MAX)
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
                self._options(group.get("options"), f"{group_path}.options", limit=SELECT_OPTIONS_MAX)

    def _options(self, options: Any, path: str, *, limit: int, mrkdwn: bool = False) -> None:
        if not isinstance(options, list) or not options:
            self.add(path, "must be a non-empty list of options")
            return
        if len(options) > limit:
            self.add(path, f"has {len(options)} options (max {limit})")
        for i, option in enumerate(options):
            self._option(option, f"{path}[{i}]", mrkdwn=mrkdwn)

    def _option(self, option: Any, path: str, *, mrkdwn: bool = False) -> None:
        if not isinstance(option, Mapping):
            self.add(path, "must be an option object")
            return
        self.text(option.get("text"), f"{path}.text", max_len=OPTION_TEXT_MAX, plain_only=not mrkdwn)
        value = option.get("value")
        if not isinstance(value, str):
            self.add(f"{path}.value", "an option needs a string value")
        else:
            self._length(value, f"{path}.value", OPTION_VALUE_MAX)
        self._optional_text(option.get("description"), f"{path}.description", max_len=OPTION_DESCRIPTION_MAX)

    def _plain_text_input(self, element: Mapping[str, Any], path: str) -> None:
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

    def _confirm(self, confirm: Any, path: str) -> None:
        if not isinstance(confirm, Mapping):
            self.add(path, "must be a confirmation dialog object")
            return
        self.text(confirm.get("title"), f"{path}.title", max_len=CONFIRM_TITLE_MAX, plain_only=True)
        self.text(confirm.get("text"), f"{path}.text", max_len=CONFIRM_TEXT_MAX)
        self.text(confirm.get("confirm"), f"{path}.confirm", max_len=CONFIRM_BUTTON_MAX, plain_only=True)
        self.text(confirm.get("deny"), f"{path}.deny", max_len=CONFIRM_BUTTON_MAX, plain_only=True)
