"""The holds on record brought in line with the entitlement rule's reasons, as set-based SQL: the first
step of a re-check (bot/store/recheck.py follows the holds with the grants' status).

The rule's reasons for every held grant are evaluated once into an indexed table (RecheckReason);
holds no longer given are released and new ones opened, each change audited in the same
transaction. Rule reasons are GrantHold rows; directive reasons GrantSuspension rows
(as when a directive is put into force).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    text,
    tuple_,
    update,
)
from sqlmodel import Session, col, select

from bot.domain.entitlement import Hold
from bot.store import audit
from bot.store.entitlement import RuleInputs
from bot.store.recheck import count_where, grant_reasons, held
from bot.store.tables import AccessGrant, GrantHold, GrantSuspension, RecheckReason
from bot.store.types import UTCDateTime


@dataclass(frozen=True)
class HoldChanges:
    """How many holds a re-check opened and released (directive ones included)."""

    opened: int
    released: int


def update_holds(
    session: Session, inputs: RuleInputs, now: datetime, recheck_id: int, actor: str
) -> HoldChanges:
    """Bring the holds on record in line with the rule's reasons for every held grant: release those it
    no longer gives, open those it now gives. Each change is audited (`grant.hold_released`,
    `grant.held`, with the hold and this re-check's id)."""
    # The rule's reasons, evaluated once into an indexed table (deleted again below).
    given = grant_reasons(inputs, now)
    filled = session.exec(  # type: ignore[call-overload]
        insert(RecheckReason).from_select(
            ["recheck_id", "grant_id", "hold", "directive_id", "user_id", "unknown"],
            select(
                literal(recheck_id, Integer),
                given.c.subject_id,
                given.c.hold,
                func.coalesce(given.c.directive_id, 0),
                given.c.user_id,
                given.c.unknown,
            ),
        )
    )
    _analyze(session, filled, RecheckReason)
    reason = RecheckReason
    mine = RecheckReason.recheck_id == recheck_id
    held_ids = select(AccessGrant.id).where(held(now))
    active_directives = [d.directive_id for d in inputs.directives]

    # Rule holds (every reason but directives) no longer given, or given now with the other certainty.
    still_given = exists().where(
        mine,
        reason.grant_id == GrantHold.grant_id,
        reason.hold == GrantHold.hold,
        reason.unknown == GrantHold.unknown,
    )
    stale_hold = and_(
        col(GrantHold.released_at).is_(None), col(GrantHold.grant_id).in_(held_ids), ~still_given
    )
    released = _run(
        session,
        update(GrantHold)
        .where(stale_hold)
        .values(released_at=now, released_recheck_id=recheck_id)
        .execution_options(synchronize_session=False),
    )
    released_here = GrantHold.released_recheck_id == recheck_id
    _audit_holds(
        session, now, actor, "grant.hold_released", GrantHold.grant_id, recheck_id,
        [({"hold": h}, and_(released_here, GrantHold.hold == h)) for h in _holds(session, released_here)],
    )  # fmt: skip

    # Directive holds of directives in force that no longer cover the holder (directory corrected).
    directive_given = exists().where(
        mine,
        reason.grant_id == GrantSuspension.grant_id,
        reason.hold == Hold.DIRECTIVE.value,
        reason.directive_id == GrantSuspension.directive_id,
    )
    stale = and_(
        col(GrantSuspension.released_at).is_(None),
        col(GrantSuspension.directive_id).in_(active_directives),
        col(GrantSuspension.grant_id).in_(held_ids),
        ~directive_given,
    )
    _audit_holds(
        session, now, actor, "grant.hold_released", GrantSuspension.grant_id, recheck_id,
        [
            ({"hold": Hold.DIRECTIVE, "directive_id": d}, stale & (GrantSuspension.directive_id == d))
            for d in active_directives
        ],
    )  # fmt: skip
    released += _run(
        session,
        update(GrantSuspension)
        .where(stale)
        .values(released_at=now)
        .execution_options(synchronize_session=False),
    )

    # New rule holds.
    # Not a correlated NOT EXISTS: PostgreSQL plans that as a loop over grant_hold per reason, and the
    # rows this very statement inserts (invisible, but scanned) make it quadratic. An uncorrelated
    # NOT IN is read once, into a hash, before the first row is written.
    open_hold = tuple_(reason.grant_id, reason.hold).in_(
        select(GrantHold.grant_id, GrantHold.hold).where(col(GrantHold.released_at).is_(None))
    )
    opened_holds = session.exec(  # type: ignore[call-overload]
        insert(GrantHold).from_select(
            ["grant_id", "user_id", "hold", "unknown", "held_at", "recheck_id"],
            select(
                reason.grant_id,
                reason.user_id,
                reason.hold,
                reason.unknown,
                literal(now, UTCDateTime),
                literal(recheck_id, Integer),
            ).where(mine, reason.hold != Hold.DIRECTIVE.value, ~open_hold),
        )
    )
    _analyze(session, opened_holds, GrantHold)
    held_here = GrantHold.recheck_id == recheck_id
    _audit_holds(
        session, now, actor, "grant.held", GrantHold.grant_id, recheck_id,
        [({"hold": h}, and_(held_here, GrantHold.hold == h)) for h in _holds(session, held_here)],
    )  # fmt: skip

    # New directive holds: a row released earlier for the same grant and directive opens again.
    directive_reason = and_(
        mine,
        reason.hold == Hold.DIRECTIVE.value,
        reason.grant_id == GrantSuspension.grant_id,
        reason.directive_id == GrantSuspension.directive_id,
    )
    session.exec(  # type: ignore[call-overload]
        update(GrantSuspension)
        .where(col(GrantSuspension.released_at).is_not(None), exists().where(directive_reason))
        .values(released_at=None, reinstated=False, suspended_at=now, recheck_id=recheck_id)
        .execution_options(synchronize_session=False)
    )
    any_row = tuple_(reason.grant_id, reason.directive_id).in_(
        select(GrantSuspension.grant_id, GrantSuspension.directive_id)
    )
    session.exec(  # type: ignore[call-overload]
        insert(GrantSuspension).from_select(
            ["grant_id", "directive_id", "user_id", "suspended_at", "recheck_id"],
            select(
                reason.grant_id,
                reason.directive_id,
                reason.user_id,
                literal(now, UTCDateTime),
                literal(recheck_id, Integer),
            ).where(mine, reason.hold == Hold.DIRECTIVE.value, ~any_row),
        )
    )
    opened_here = and_(
        GrantSuspension.recheck_id == recheck_id,
        col(GrantSuspension.released_at).is_(None),
        GrantSuspension.suspended_at == now,
    )
    _audit_holds(
        session, now, actor, "grant.held", GrantSuspension.grant_id, recheck_id,
        [
            ({"hold": Hold.DIRECTIVE, "directive_id": d}, opened_here & (GrantSuspension.directive_id == d))
            for d in active_directives
        ],
    )  # fmt: skip
    # INSERT … SELECT reports no reliable row count on every driver: count what this re-check opened.
    opened = count_where(session, GrantHold.recheck_id == recheck_id) + count_where(session, opened_here)
    session.exec(delete(RecheckReason).where(mine))  # type: ignore[call-overload]
    return HoldChanges(opened, released)


def _audit_holds(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    grant_column: Any,
    recheck_id: int,
    cases: list[tuple[dict[str, Any], ColumnElement[bool]]],
) -> None:
    """One audit event (`grant.held` or `grant.hold_released`) per hold row matching each case's
    condition, recording the case's hold; one statement per case."""
    released = action == "grant.hold_released"
    for hold, where in cases:
        audit.record_rows(
            session, now, actor, action, "grant", grant_column,
            before=hold if released else {}, after={} if released else hold,
            detail={"recheck_id": recheck_id}, where=where,
        )  # fmt: skip


def _holds(session: Session, where: ColumnElement[bool]) -> list[Hold]:
    """The kinds of rule hold among the grant_hold rows matching `where`: one audit statement per kind
    present, rather than a scan for each of the rule's kinds."""
    found = session.exec(select(GrantHold.hold).where(where).distinct()).all()
    return [hold for hold in Hold if hold.value in found]


def _run(session: Session, statement: Any) -> int:
    """Execute an UPDATE; how many rows it changed."""
    result = session.exec(statement)
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def _analyze(session: Session, filled: Any, table: Any) -> None:
    """On PostgreSQL, refresh the planner's statistics of a table this transaction just filled (`filled`:
    the result of the INSERT): planned as empty, a join against 50,000 fresh rows would scan them once
    per row. An INSERT that added nothing changes nothing the planner knows, and is not worth the
    sampling (a tenth of a second on 100,000 grants)."""
    if session.get_bind().dialect.name == "postgresql" and getattr(filled, "rowcount", -1) != 0:
        session.exec(text(f"ANALYZE {table.__tablename__}"))  # type: ignore[call-overload]
