"""What people are told about their personal keys for the AI gateway."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.keys import masked
from bot.present.replies import Notice
from bot.store.tables import PersonalKey


def new_key_notice(key_id: int, key: str) -> Notice:
    """The one time a key is shown: to its owner, in the reply to `/access key`, never in a channel."""
    return Notice(
        "Copy this key now: it is shown only this once, and AccessBot keeps only a fingerprint of it.\n"
        "`{key}`\n"
        "Give it to your AI gateway client as its API key. It says who you are; which models you may "
        "use is still decided by your grants, on every call. Lost or leaked? `/access key revoke K{id}`.",
        title=f"Your new personal key K{key_id}",
        tone="success",
        values={"key": key, "id": key_id},
    )


def key_list_notice(found: Sequence[PersonalKey]) -> Notice:
    """`/access key list`: the person's keys, newest first, as prefix and last characters only."""
    if not found:
        return Notice("You have no personal keys. `/access key` makes one for your AI gateway client.")
    lines = []
    for key in found:
        made = key.created_at.strftime("%Y-%m-%d")
        if key.revoked_at is not None:
            state = f"revoked {key.revoked_at:%Y-%m-%d}"
        elif key.last_used_at is not None:
            state = f"last used {key.last_used_at:%Y-%m-%d %H:%M} UTC"
        else:
            state = "not used yet"
        lines.append(f"• K{key.id}  `{masked(key.hint)}`  made {made}, {state}")
    return Notice(
        "\n".join(lines) + "\n`/access key revoke K3` stops one working; `/access key` makes another.",
        title="Your personal keys",
    )
