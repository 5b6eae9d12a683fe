"""People leaving: what a full directory import does to those it no longer lists.

A departed person stays on record (reports must say who held what), but holds nothing and decides
nothing: their held grants are revoked, their pending requests cancelled, their roles dropped (approval
steps waiting on them go to the access admins, bot/services/approvals/stranded.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from bot.domain.status import RequestStatus
from bot.services.approvals import stop_request
from bot.services.context import Context
from bot.store import audit
from bot.store import directory as people
from bot.store import offboarding as store
from bot.store import requests as queries
from bot.store.keys import revoke_keys_of

DEPARTED_REASON = "The directory no longer lists this person (departed)."


def depart(
    ctx: Context, session: Session, user_ids: Sequence[str], *, actor: str, detail: dict[str, Any]
) -> tuple[int, int]:
    """Mark these people departed within the caller's transaction and end what they hold: held grants
    and personal keys revoked (set-based), pending requests cancelled (approvers' copies say so), roles
    dropped, each audited by `actor` with `detail`. Returns (grants revoked, requests cancelled)."""
    if not user_ids:
        return 0, 0
    roles = people.load_people(session, user_ids)
    people.set_departed(session, user_ids, True)
    for user_id in user_ids:
        person = roles.get(user_id)
        audit.record(
            session,
            actor=actor,
            action="person.departed",
            subject_type="person",
            subject_id=user_id,
            before={"roles": sorted(person.roles)} if person else None,
            after={"status": "departed"},
            detail=detail,
        )
    revoked = store.revoke_grants_of(session, user_ids, ctx.clock(), actor, DEPARTED_REASON)
    # Their personal keys too: listed again one day, they start from nothing, as with grants.
    revoke_keys_of(session, user_ids, ctx.clock(), actor, DEPARTED_REASON)
    cancelled = 0
    for request_id in store.pending_request_ids(session, user_ids):
        request = queries.lock_request(session, request_id)
        if request is None or request.status != RequestStatus.PENDING:
            continue
        stop_request(
            ctx, session, request, RequestStatus.CANCELLED, reason=DEPARTED_REASON, actor=actor,
            closing_note=DEPARTED_REASON, notify_requester=False,
        )  # fmt: skip
        cancelled += 1
    return revoked, cancelled
