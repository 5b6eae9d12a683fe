"""The audit checkpoint as people see it: the message posted to the compliance channel."""

from __future__ import annotations

from datetime import datetime

from bot.present.replies import Screen


def checkpoint_label(checkpoint_id: int) -> str:
    """How a checkpoint is named: `C3`."""
    return f"C{checkpoint_id}"


def checkpoint_message(checkpoint_id: int, seq: int, hash_: str, at: datetime, actor: str) -> Screen:
    """templates/audit_checkpoint.json.j2: checkpoint `checkpoint_id` of the chain's head, event `seq`
    (also the number of events) with hash `hash_` (64 hex digits), recorded at `at` by `actor`
    (`system` for the daily one, `cli:<user>` from the command line)."""
    return Screen(
        "audit_checkpoint",
        {
            "label": checkpoint_label(checkpoint_id),
            "events": seq,
            "hash": hash_,
            "at": at,
            "actor": actor,
            "daily": actor == "system",
        },
    )
