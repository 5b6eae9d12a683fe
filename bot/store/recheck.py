"""The re-check of every held grant against the entitlement rule, as set-based SQL.

Whatever the number of grants, a re-check is a fixed handful of statements: the rule's reasons for all
held grants (`reason_rows`, bot/store/entitlement.py) are compared with the holds on record, and holds
that no longer apply are released and new ones opened (bot/store/recheck_holds.py); then grants whose
holds changed are suspended or reinstated (`follow_holds`, here), each row change with its audit event,
written by the database in the same transaction. Here too: the run's record, the rule's reasons for
pending requests, and the licences grants depend on.

Directive reasons are GrantSuspension rows (as when a directive is put into force); every other reason
is a GrantHold row. A grant is active only while none of either is open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    true,
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
from bot.store.licences import covered_pairs, link_grants
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    GrantConfirmation,
    GrantHold,
    GrantSuspension,
    Recheck,
    RecheckChange,
)
from bot.store.tables.access import grant_held

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


def link_licences(session: Session, inputs: RuleInputs, now: datetime) -> None:
    """Record, for every held grant a require-licence directive in force covers, the licences that
    keep it active (those it depends on), and forget those a held grant no longer depends on."""
    pairs = [
        covered_pairs(
            and_(
                held(now),
                col(AccessGrant.model).in_(sorted(rule.models)),
                covers(col(AccessGrant.user_id), rule.population),
            ),
            inputs.on,
        )
        for rule in inputs.directives
        if rule.action == REQUIRE_LICENCE
    ]
    link_grants(session, pairs, held(now))


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
        recorded = select(RecheckChange.subject_id).where(
            RecheckChange.recheck_id == recheck_id,
            RecheckChange.subject_type == GRANT,
            RecheckChange.change == change,
        )
        changed = col(AccessGrant.id).in_(recorded)
        # PostgreSQL changes, records and audits the grants in one statement; SQLite, which has no
        # data-modifying WITH, records them first, then audits and updates the grants recorded.
        at_once = session.get_bind().dialect.name == "postgresql"
        if at_once:
            session.exec(_change_at_once(condition, target, now, recheck_id, change, actor, audited))
        else:
            session.exec(_record_changes(AccessGrant.id, AccessGrant.user_id, condition, recheck_id, change))
        count = count_where(
            session, and_(RecheckChange.recheck_id == recheck_id, RecheckChange.change == change)
        )
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
        if change == REINSTATED:
            # A directive's suspension released by this re-check (a licence now lets the holder past it,
            # or their directory entry no longer falls under it) whose grant came back here is that
            # directive's reinstatement, as lifting it would have been: its report counts it.
            session.exec(  # type: ignore[call-overload]
                update(GrantSuspension)
                .where(
                    GrantSuspension.released_at == now,
                    col(GrantSuspension.reinstated).is_(False),
                    col(GrantSuspension.grant_id).in_(recorded),
                )
                .values(reinstated=True)
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
    """Record that this re-check changed a pending request (`change`: how), for its requester's notice."""
    session.add(
        RecheckChange(
            recheck_id=recheck_id,
            subject_type=REQUEST,
            subject_id=request.id or 0,
            user_id=request.requester_id,
            change=change,
        )
    )


def count_where(session: Session, where: ColumnElement[bool]) -> int:
    """How many rows match `where` (of the table it names)."""
    return int(session.exec(select(func.count()).where(where)).one())
