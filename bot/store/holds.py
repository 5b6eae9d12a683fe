"""What holds grants now, and what a re-check changed: the reads behind notices, status and reports.

Holds are written by the re-check (bot/store/recheck.py: GrantHold rows for the rule's reasons) and by
directives put in force (GrantSuspension rows); a grant is active only while none of either is open.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.domain.directives import REQUIRE_LICENCE
from bot.domain.entitlement import Hold, Reason
from bot.store.recheck import GRANT
from bot.store.tables import AccessGrant, Directive, GrantHold, GrantSuspension, RecheckChange


def changed_people(recheck_id: int) -> Any:
    """A SELECT of `user_id`: holders whose grants this re-check suspended or reinstated."""
    return (
        select(col(RecheckChange.user_id).label("user_id"))
        .where(RecheckChange.recheck_id == recheck_id, RecheckChange.subject_type == GRANT)
        .distinct()
    )


def grant_changes(session: Session, recheck_id: int, user_id: str) -> list[tuple[AccessGrant, str]]:
    """The grants of `user_id` this re-check suspended or reinstated, with which, by grant id."""
    rows = session.exec(
        select(AccessGrant, RecheckChange.change)
        .join(RecheckChange, col(RecheckChange.subject_id) == col(AccessGrant.id))
        .where(
            RecheckChange.recheck_id == recheck_id,
            RecheckChange.subject_type == GRANT,
            RecheckChange.user_id == user_id,
        )
        .order_by(col(AccessGrant.id))
    ).all()
    return [(grant, change) for grant, change in rows]


def open_holds(session: Session, grant_ids: list[int]) -> dict[int, list[Reason]]:
    """Grant id -> what holds it now, in the rule's order (a directive's reason says whether the
    directive only requires a licence)."""
    found: dict[int, list[Reason]] = {g: [] for g in grant_ids}
    if not grant_ids:
        return found
    for grant_id, hold, unknown in session.exec(
        select(GrantHold.grant_id, GrantHold.hold, GrantHold.unknown).where(
            col(GrantHold.grant_id).in_(grant_ids), col(GrantHold.released_at).is_(None)
        )
    ):
        found[grant_id].append(Reason(Hold(hold), None, bool(unknown)))
    for grant_id, directive_id, action in session.exec(
        select(GrantSuspension.grant_id, GrantSuspension.directive_id, Directive.action)
        .join(Directive, col(Directive.id) == col(GrantSuspension.directive_id))
        .where(col(GrantSuspension.grant_id).in_(grant_ids), col(GrantSuspension.released_at).is_(None))
    ):
        found[grant_id].append(Reason(Hold.DIRECTIVE, directive_id, licence=action == REQUIRE_LICENCE))
    order = {hold: index for index, hold in enumerate(Hold)}
    for holds in found.values():
        holds.sort(key=lambda r: (order[r.hold], r.directive_id or 0))
    return found


def held_by(session: Session, grant_ids: list[int]) -> dict[int, list[str]]:
    """Grant id -> the labels of what holds it now (`us_person`, `directive:D3`, ...), in the rule's
    order; reads at most a thousand ids per query."""
    labels: dict[int, list[str]] = {}
    for start in range(0, len(grant_ids), 1000):
        for grant_id, holds in open_holds(session, grant_ids[start : start + 1000]).items():
            labels[grant_id] = [reason.label for reason in holds]
    return labels
