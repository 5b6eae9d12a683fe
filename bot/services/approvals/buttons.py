"""The value an Approve or Deny button carries: which step of which request it decides."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.text import parse_db_id
from bot.services.context import Refusal

_POSITION = re.compile(r"[0-9]{1,3}", re.ASCII)  # a step's position in its chain (chains are short)


@dataclass(frozen=True)
class ButtonValue:
    """The step an Approve/Deny button decides: the request's id and the step's position (from 0)."""

    request_id: int
    position: int


def parse_button_value(value: str | None) -> ButtonValue:
    """'<request_id>:<position>' from an Approve/Deny button (position counts from 0). The value is user
    data: only its shape is trusted here (ASCII digits within the database's range, bot/domain/text.py);
    every permission is checked again by decide(). Raises Refusal for anything else."""
    request_text, _, position_text = (value or "").partition(":")
    request_id = parse_db_id(request_text)
    if request_id is None or not _POSITION.fullmatch(position_text):
        raise Refusal("That button is not one of mine, so nothing was changed.")
    return ButtonValue(request_id, int(position_text))
