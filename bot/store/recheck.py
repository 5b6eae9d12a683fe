"""The re-check of every held grant against the entitlement rule, as set-based SQL.

Whatever the number of grants, a re-check is a fixed handful of statements: the rule's reasons for all
held grants (`reason_rows`, bot/store/entitlement.py) are compared with the holds on record; holds that
no longer apply are released, new ones opened, and grants whose holds changed are suspended or
reinstated, each row change with its audit event, written by the database in the same transaction.

Directive reasons are GrantSuspension rows (as when a directive is put into force); every other reason
is a GrantHold row. A grant is active only while none of either is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    text,
    true,
    tuple_,
    update,
)
from sqlmodel import Session, col, select

from bot.domain.directives import REQUIRE_LICENCE
from bot.domain.entitlement import Hold
from bot.domain.status import GrantStatus, RequestStatus
from bot.domain.webhooks import GRANT_REINSTATED, GRANT_SUSPENDED
from bot.store import audit, webhooks
from bot.store.directives import covers
from bot.store.entitlement import RuleInputs, reason_rows
from bot.store.licences import link_grants
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    GrantConfirmation,
    GrantHold,
    GrantSuspension,
    Recheck,
    RecheckChange,
    RecheckReason,
)
from bot.store.tables.access import grant_held
from bot.store.types import UTCDateTime

GRANT = "grant"
REQUEST = "request"
SUSPENDED = "suspended"
REINSTATED = "reinstated"
WEBHOOK_EVENT = {SUSPENDED: GRANT_SUSPENDED, REINSTATED: GRANT_REINSTATED}


def held(now: datetime) -> ColumnElement[bool]:
    """Grants the rule still has a say over: held (active or suspended) and not yet expired."""
    return and_(grant_held(), col(AccessGrant.expires_at) > now)


def _confirmed(hold: Hold) -> ColumnElement[bool]:
    return col(AccessGrant.id).in_(select(GrantConfirmation.grant_id).where(GrantConfirmation.hold == hold))


def grant_reasons(inputs: RuleInputs, now: datetime) -> Any:
    """A subquery of the rule's reasons for every held grant (see reason_rows for its columns)."""
    return reason_rows(
        col(AccessGrant.id), col(AccessGrant.user_id), col(AccessGrant.model), held(now), inputs, _confirmed
    ).subquery("reason")


def request_reasons(inputs: RuleInputs) -> Any:
    """A subquery of the rule's reasons, whose facts are known, for every pending request."""
    return reason_rows(
        col(AccessRequest.id),
        col(AccessRequest.requester_id),
        col(AccessRequest.model),
        AccessRequest.status == RequestStatus.PENDING,
        inputs,
        known_only=True,
    ).subquery("reason")


def open_recheck(session: Session, trigger: str, actor: str, now: datetime) -> int:
    """Record a re-check run; returns its id."""
    row = Recheck(at=now, trigger=trigger[:64], actor=actor[:64])
    session.add(row)
    session.flush()
    return row.id or 0


def forget_recheck(session: Session, recheck_id: int) -> None:
    """Drop the record of a re-check that changed nothing."""
    row = session.get(Recheck, recheck_id)
    if row is not None:
        session.delete(row)
        session.flush()


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
    opened = _count(session, GrantHold.recheck_id == recheck_id) + _count(session, opened_here)
    session.exec(delete(RecheckReason).where(mine))  # type: ignore[call-overload]
    return HoldChanges(opened, released)


def link_licences(session: Session, inputs: RuleInputs, now: datetime) -> None:
    """Record, for every held grant a require-licence directive in force covers, the licences that
    keep it active (those it depends on), unless already recorded."""
    for rule in inputs.directives:
        if rule.action == REQUIRE_LICENCE:
            link_grants(
                session,
                and_(
                    held(now),
                    col(AccessGrant.model).in_(sorted(rule.models)),
                    covers(col(AccessGrant.user_id), rule.population),
                ),
                inputs.on,
            )


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


def any_open_hold(grant_id: Any) -> ColumnElement[bool]:
    """SQL for "something holds this grant": an open rule hold or an open directive suspension."""
    return or_(
        exists().where(GrantHold.grant_id == grant_id, col(GrantHold.released_at).is_(None)),
        exists().where(GrantSuspension.grant_id == grant_id, col(GrantSuspension.released_at).is_(None)),
    )


def follow_holds(
    session: Session, now: datetime, recheck_id: int, actor: str, effective_at: datetime | None = None
) -> tuple[int, int]:
    """Suspend every active grant something holds, reinstate every unexpired suspended grant nothing
    holds any more; each recorded as a change of this re-check (for the holder's notice) and audited,
    a suspension with `effective_at` when it took effect before now (audit.effective). Returns
    (suspended, reinstated)."""
    counts = {}
    took_effect = audit.effective(effective_at, now)
    # Reinstatements first: a grant reinstated here has no open hold, so the suspensions that follow
    # never take it; the other way round, the search for grants to reinstate would look through every
    # grant just suspended (each with a hold) for nothing.
    for status, change, target in (
        (GrantStatus.SUSPENDED, REINSTATED, GrantStatus.ACTIVE),
        (GrantStatus.ACTIVE, SUSPENDED, GrantStatus.SUSPENDED),
    ):
        holds = any_open_hold(AccessGrant.id)
        condition = and_(AccessGrant.status == status, held(now), holds if change == SUSPENDED else ~holds)
        audited = {
            "action": f"grant.{change}",
            "before": {"status": status},
            "after": {"status": target},
            "detail": {"recheck_id": recheck_id, **(took_effect if change == SUSPENDED else {})},
        }
        changed = col(AccessGrant.id).in_(
            select(RecheckChange.subject_id).where(
                RecheckChange.recheck_id == recheck_id,
                RecheckChange.subject_type == GRANT,
                RecheckChange.change == change,
            )
        )
        # PostgreSQL changes, records and audits the grants in one statement; SQLite, which has no
        # data-modifying WITH, records them first, then audits and updates the grants recorded.
        at_once = session.get_bind().dialect.name == "postgresql"
        if at_once:
            session.exec(_change_at_once(condition, target, now, recheck_id, change, actor, audited))
        else:
            session.exec(_record_changes(AccessGrant.id, AccessGrant.user_id, condition, recheck_id, change))
        count = _count(session, and_(RecheckChange.recheck_id == recheck_id, RecheckChange.change == change))
        counts[change] = count
        if not count:
            continue
        if not at_once:
            audit.record_rows(
                session, now, actor, subject_type="grant", id_column=AccessGrant.id, where=changed, **audited
            )
            session.exec(  # type: ignore[call-overload]
                update(AccessGrant)
                .where(changed)
                .values(status=target, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        webhooks.grant_events(
            session, WEBHOOK_EVENT[change], changed, now=now, actor=actor, data={"recheck_id": recheck_id}
        )
    return counts[SUSPENDED], counts[REINSTATED]


def _record_changes(
    id_column: Any, user_column: Any, where: ColumnElement[bool], recheck_id: int, change: str
) -> Any:
    """The INSERT … SELECT recording the grants matching `where` (their id and holder in the columns
    given) as this re-check's `change`s."""
    return insert(RecheckChange).from_select(
        ["recheck_id", "subject_type", "subject_id", "user_id", "change"],
        select(
            literal(recheck_id, Integer),
            literal(GRANT, String),
            id_column,
            user_column,
            literal(change, String),
        ).where(where),
    )


def _change_at_once(
    condition: ColumnElement[bool],
    target: GrantStatus,
    now: datetime,
    recheck_id: int,
    change: str,
    actor: str,
    audited: dict[str, Any],
) -> Any:
    """PostgreSQL: set the status of the grants matching `condition`, record them as this re-check's
    `change`s and audit them, in one statement (a data-modifying WITH): the grants are found once,
    rather than once by each of the three writes."""
    changed = (
        update(AccessGrant)
        .where(condition)
        .values(status=target, updated_at=now)
        .returning(col(AccessGrant.id), col(AccessGrant.user_id))
        .cte("changed")
    )
    recorded = _record_changes(changed.c.id, changed.c.user_id, true(), recheck_id, change).cte("recorded")
    return audit.rows_insert(
        now, actor, subject_type="grant", id_column=changed.c.id, where=true(), **audited
    ).add_cte(recorded)


def refused_requests(session: Session, inputs: RuleInputs) -> list[tuple[int, Hold, int | None]]:
    """(request id, hold, directive id) of each pending request the rule now refuses on known facts, one
    row per request: its first reason in the rule's order."""
    reason = request_reasons(inputs)
    rows = session.exec(select(reason.c.subject_id, reason.c.hold, reason.c.directive_id)).all()
    order = {hold: index for index, hold in enumerate(Hold)}
    first: dict[int, tuple[Hold, int | None]] = {}
    for request_id, hold, directive_id in rows:
        candidate = (Hold(hold), directive_id)
        if request_id not in first or order[candidate[0]] < order[first[request_id][0]]:
            first[request_id] = candidate
    return sorted((request_id, hold, directive_id) for request_id, (hold, directive_id) in first.items())


def record_request_change(session: Session, recheck_id: int, request: AccessRequest, change: str) -> None:
    session.add(
        RecheckChange(
            recheck_id=recheck_id,
            subject_type=REQUEST,
            subject_id=request.id or 0,
            user_id=request.requester_id,
            change=change,
        )
    )


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


def _count(session: Session, where: ColumnElement[bool]) -> int:
    return int(session.exec(select(func.count()).where(where)).one())
