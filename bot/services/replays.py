"""Acting once per signed Slack request, whichever replica it reaches and however often it arrives."""

from __future__ import annotations

from datetime import datetime

from bot.clock import system_clock
from bot.services.context import Context
from bot.store import replays


def first_time(ctx: Context, key: str, until: datetime) -> bool:
    """Record that the request known by `key` is being handled; False if it was handled before (a
    replay, or Slack retrying an event). `until`: when the key may be forgotten (UTC)."""
    with ctx.uow() as uow:
        fresh = replays.remember(uow.session, key, until)
        uow.commit()
    return fresh


def forget_expired(ctx: Context) -> int:
    """Scheduler job: forget keys of requests too old to pass the signature check again. The signature
    window is real time (Slack's timestamps), so this compares with real time, not the context's clock."""
    with ctx.uow() as uow:
        count = replays.forget_expired(uow.session, system_clock())
        uow.commit()
    return count
