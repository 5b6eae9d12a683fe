"""Scheduler sweeps over waiting requests (stranded steps, reminders): each candidate in a transaction of
its own, its row locked, so that two replicas never act on the same request at once and one failure
does not undo the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlmodel import Session

from bot.services.context import Context
from bot.store import requests as queries
from bot.store.locks import directive_barrier
from bot.store.tables import AccessRequest


def sweep(ctx: Context, request_ids: Iterable[int], work: Callable[[Session, AccessRequest], bool]) -> int:
    """Call `work` with each request locked (taking turns with directives); commit when it returns True
    (it did something), roll back otherwise. `work` checks the request again: it may have changed since
    it was chosen. Returns how many requests were committed."""
    handled = 0
    for request_id in request_ids:
        with ctx.uow() as uow:
            session = uow.session
            directive_barrier(session, exclusive=False)
            request = queries.lock_request(session, request_id)
            if request is None or not work(session, request):
                continue
            uow.commit()
            handled += 1
    return handled
