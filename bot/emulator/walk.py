"""Finding interactive elements inside Block Kit blocks.

A person clicks a button they can see; the driver does the same by looking the button up in the
blocks the bot really sent (stored by the emulator), so tests press it with its real ``value`` and
``block_id`` rather than with values made up by the test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FoundElement:
    """An interactive element and the block that holds it."""

    block_id: str | None
    block_type: str
    element: Mapping[str, Any]

    @property
    def action_id(self) -> str | None:
        return self.element.get("action_id")

    @property
    def value(self) -> str | None:
        return self.element.get("value")


def iter_elements(blocks: Sequence[Mapping[str, Any]] | None) -> Iterator[FoundElement]:
    """Interactive elements in display order: section accessories, actions elements, input elements."""
    for block in blocks or []:
        if not isinstance(block, Mapping):
            continue
        block_id, block_type = block.get("block_id"), str(block.get("type"))
        candidates: list[Any] = []
        if block_type == "section" and block.get("accessory") is not None:
            candidates.append(block["accessory"])
        elif block_type == "actions":
            candidates.extend(block.get("elements") or [])
        elif block_type == "input" and block.get("element") is not None:
            candidates.append(block["element"])
        for element in candidates:
            if isinstance(element, Mapping):
                yield FoundElement(block_id, block_type, element)


def find_buttons(
    blocks: Sequence[Mapping[str, Any]] | None,
    action_id: str,
    value_contains: str | None = None,
) -> list[FoundElement]:
    """Buttons with this action_id (and, if given, a value containing ``value_contains``)."""
    return [
        found
        for found in iter_elements(blocks)
        if found.element.get("type") == "button"
        and found.action_id == action_id
        and (value_contains is None or value_contains in (found.value or ""))
    ]


def describe_buttons(blocks: Sequence[Mapping[str, Any]] | None) -> str:
    """``action_id=value`` of every button, for assertion messages when a lookup fails."""
    parts = [
        f"{found.action_id}={found.value!r}"
        for found in iter_elements(blocks)
        if found.element.get("type") == "button"
    ]
    return ", ".join(parts) or "no buttons"


def input_blocks(blocks: Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    """The input blocks of a view, in order (these make up ``view.state.values``)."""
    return [b for b in blocks or [] if isinstance(b, Mapping) and b.get("type") == "input"]


def one_button(
    blocks: Sequence[Mapping[str, Any]] | None, action_id: str, value_contains: str | None, where: str
) -> FoundElement:
    """The single button ``action_id`` (value containing ``value_contains``, if given) in ``blocks``.

    Raises AssertionError naming the buttons that are there when there is none, or more than one.
    ``where`` names the message or view in that message.
    """
    found = find_buttons(blocks, action_id, value_contains)
    if not found:
        raise AssertionError(f"no button {action_id!r} in {where}; buttons: {describe_buttons(blocks)}")
    if len(found) > 1:
        values = [b.value for b in found]
        raise AssertionError(f"{len(found)} buttons {action_id!r} in {where} ({values}); pass value_contains")
    return found[0]
