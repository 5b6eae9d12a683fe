"""Point-in-time access reports: who could use a model at an instant, and what a person could use over a
window, answered from recorded history (grants as made, the status changes the audit trail recorded,
the decisions behind each grant, the licences it relied on), never from today's state.

The rule for "could use" is bot/domain/access_history.py; the reads are bot/store/access_history.py.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.access_history import AccessAt, Holder, PersonAccess, UsePeriod, usable_at, usable_intervals
from bot.services.context import Context, Refusal
from bot.store import access_history as history


def access_at(ctx: Context, model: str, at: datetime) -> AccessAt:
    """Who could use `model` (a slug, any case) at the instant `at` (aware), and on what basis.

    Raises Refusal when `at` is after now (a report answers from what has been recorded), or when the
    catalog has no such model and no grant was ever made for it."""
    slug = model.strip().lower()
    _not_future(ctx, at, "That time")
    grants = history.of_model_at(slug, at)
    with ctx.read() as session:
        if ctx.catalog.model(slug) is None and not history.known_model(session, slug):
            raise Refusal(f"There is no model {model!r}; `/access models` lists them.")
        spans = history.grant_spans(session, grants)
        changes = history.status_changes(session, grants)
        usable = [s for s in spans if usable_at(s.starts_at, s.expires_at, changes.get(s.id, []), at)]
        approvals = history.approvals_of(session, grants) if usable else {}
        licences = history.licences_at(session, usable, at)
    holders = [
        Holder(
            span,
            approvals.get(span.request_id, []) if span.request_id is not None else [],
            licences.get(span.id, []),
        )
        for span in usable
    ]
    return AccessAt(slug, at, holders)


def person_access(ctx: Context, user_id: str, start: datetime, end: datetime | None) -> PersonAccess:
    """Every model `user_id` could use between `start` and `end` (aware; `end` None: now), with the
    intervals, each clipped to the window.

    Raises Refusal when the window is empty or reaches past now, or the person was never in the
    directory and never held a grant."""
    now = ctx.clock()
    end = now if end is None else end
    _not_future(ctx, end, "The end of the window")
    if end <= start:
        raise Refusal("The window must end after it starts.")
    grants = history.of_person_within(user_id, start, end)
    with ctx.read() as session:
        name = history.person_name(session, user_id)
        spans = history.grant_spans(session, grants)
        if name is None and not spans and not history.ever_held(session, user_id):
            raise Refusal(f"'{user_id}' is not in the directory and never held a grant.")
        changes = history.status_changes(session, grants)
    periods = [
        UsePeriod(span, interval)
        for span in spans
        for interval in usable_intervals(
            span.starts_at, span.expires_at, changes.get(span.id, []), start, end
        )
    ]
    periods.sort(key=lambda p: (p.grant.model, p.interval.start, p.grant.id))
    return PersonAccess(user_id, name, start, end, periods)


def _not_future(ctx: Context, moment: datetime, what: str) -> None:
    if moment > ctx.clock():
        raise Refusal(f"{what} is in the future: a report answers from what has been recorded.")
