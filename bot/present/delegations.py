"""Delegations as people see them in Slack: `/access delegate list` and App Home's section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.present.replies import Notice, Person
from bot.store.tables import Delegation

USAGE = (
    "`/access delegate @person until 2026-12-24 [role]` hands yours over; "
    "`/access delegate end @person` ends it."
)


def delegation_rows(user_id: str, rows: Sequence[Delegation]) -> list[dict[str, Any]]:
    """Template data: each delegation in effect that `user_id` made (`mine`: they can end it) or
    received, with the other person, the duty handed over and its end."""
    return [
        {
            "id": row.id,
            "mine": row.delegator_id == user_id,
            "other": row.delegate_id if row.delegator_id == user_id else row.delegator_id,
            "role": row.role or "all",
            "ends_at": row.ends_at,
        }
        for row in rows
    ]


def delegation_list_notice(user_id: str, rows: Sequence[Delegation]) -> Notice:
    """`/access delegate list`: the delegations in effect to and from `user_id`, or that there are none."""
    if not rows:
        return Notice("You have no delegations in effect. " + USAGE)
    lines, values = [], {}
    for n, row in enumerate(delegation_rows(user_id, rows)):
        values[f"p{n}"] = Person(row["other"])
        values[f"r{n}"] = row["role"]
        until = row["ends_at"].strftime("%Y-%m-%d %H:%M UTC")
        arrow = "to {p%d} (your approvals: {r%d})" if row["mine"] else "from {p%d} (their approvals: {r%d})"
        lines.append(f"• {arrow % (n, n)} until {until}")
    return Notice("Delegations in effect:\n" + "\n".join(lines) + "\n" + USAGE, values=values)
