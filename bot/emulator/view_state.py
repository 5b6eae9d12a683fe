"""``view.state`` as Slack builds it when a person submits a modal.

The driver fills a stored modal's input blocks with plain values (a string, a list, a user id, a
YYYY-MM-DD day for a datepicker, an int for a datetimepicker) and gets the exact ``state.values`` Slack
would send, including the inputs left empty. A value nobody could enter (an unknown input, an option
not offered, a day the picker cannot send) raises AssertionError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .walk import input_blocks

# Element type -> the state key holding its value, for elements whose value is sent as given.
_SIMPLE_KEYS = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}


def build_state(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Slack's ``view.state`` for ``values``: every input block appears, filled or empty.

    ``values`` is keyed by block_id or action_id; raises AssertionError for a key the view has no input
    for, or a value the element does not offer.
    """
    blocks = input_blocks(view.get("blocks"))
    by_key: dict[str, Mapping[str, Any]] = {}
    for block in blocks:
        element = block.get("element") or {}
        for key in (block.get("block_id"), element.get("action_id")):
            if key:
                by_key.setdefault(key, block)
    unknown = [key for key in values if key not in by_key]
    if unknown:
        known = sorted(by_key)
        raise AssertionError(f"view {view.get('id')} has no input block for {unknown}; inputs: {known}")
    chosen = {id(by_key[key]): value for key, value in values.items()}
    state: dict[str, Any] = {}
    for block in blocks:
        element = block.get("element") or {}
        entry = _element_state(element, chosen.get(id(block)))
        state.setdefault(block["block_id"], {})[element["action_id"]] = entry
    return {"values": state}


def _element_state(element: Mapping[str, Any], value: Any) -> dict[str, Any]:
    kind = element.get("type")
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return {"type": kind, "value": None if value is None else str(value)}
    if kind in ("static_select", "radio_buttons"):
        option = None if value is None else _option(element, value)
        return {"type": kind, "selected_option": option}
    if kind == "external_select":
        option = None if value is None else {"text": _plain(str(value)), "value": str(value)}
        return {"type": kind, "selected_option": option}
    if kind == "multi_external_select":
        # The options came from the app's options URL, so the view does not hold them: each picked value
        # is submitted as an option labelled with its value, as for external_select.
        return {
            "type": kind,
            "selected_options": [{"text": _plain(str(v)), "value": str(v)} for v in value or []],
        }
    if kind == "datepicker" and value is not None and not _is_day(value):
        # Slack's picker offers days only, and sends the one picked as YYYY-MM-DD.
        raise AssertionError(
            f"{element.get('action_id')}: {value!r} is not a day a datepicker sends (YYYY-MM-DD)"
        )
    if kind in ("multi_static_select", "checkboxes"):
        return {"type": kind, "selected_options": [_option(element, v) for v in value or []]}
    if kind in _SIMPLE_KEYS:
        empty: Any = [] if str(kind).startswith("multi_") else None
        return {"type": kind, _SIMPLE_KEYS[str(kind)]: empty if value is None else value}
    raise AssertionError(f"submit_view does not know how to fill a {kind!r} element")


def _option(element: Mapping[str, Any], value: Any) -> dict[str, Any]:
    """The option object (with its label from the view) that a person picking ``value`` submits."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return {"text": option["text"], "value": value}
    offered = [o.get("value") for o in options]
    raise AssertionError(f"{element.get('action_id')}: no option with value {value!r}; offered {offered}")


def _is_day(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}
