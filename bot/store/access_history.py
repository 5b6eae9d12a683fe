"""Recorded history read back for point-in-time access reports: grants, the status changes the audit
trail recorded for them, the approvals behind them and the licences they relied on (the rule that turns
these into "could use" is bot/domain/access_history.py).

Every reader takes the grants it is about as SQL over AccessGrant, so that each is one statement (or one
streamed statement) whatever the number of grants, never a query per grant."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, String, and_, cast, or_
from sqlmodel import Session, col, select

from bot.domain.access_history import ApprovalRecord, GrantSpan, LicenceBasis, StatusChange
from bot.store.tables import (
    AccessGrant,
    AuditEvent,
    Decision,
    GrantLicence,
    RequestStep,
)
from bot.store.tables import Licence as LicenceRow
from bot.store.tables import Person as PersonRow

# The audit events that set a grant's status (each has `after.status`), other than its creation: the
# grant is active from its start (bot/domain/access_history.py). Named so that the action index narrows
# the scan.
STATUS_ACTIONS = ("grant.suspended", "grant.reinstated", "grant.revoked", "grant.expired")
STREAM_BATCH = 1000


def of_model_at(model: str, at: datetime) -> ColumnElement[bool]:
    """SQL over AccessGrant: grants of `model` whose span `[starts_at, expires_at)` holds `at`."""
    return and_(
        AccessGrant.model == model, col(AccessGrant.starts_at) <= at, col(AccessGrant.expires_at) > at
    )


def of_person_within(user_id: str, start: datetime, end: datetime) -> ColumnElement[bool]:
    """SQL over AccessGrant: the person's grants whose span meets the window `[start, end)`."""
    return and_(
        AccessGrant.user_id == user_id, col(AccessGrant.starts_at) < end, col(AccessGrant.expires_at) > start
    )


def grant_spans(session: Session, grants: ColumnElement[bool]) -> list[GrantSpan]:
    """The grants matching `grants`, with their holders' names, ordered by holder then grant id."""
    rows = session.exec(
        select(AccessGrant, PersonRow.name)
        .join(PersonRow, col(PersonRow.slack_user_id) == col(AccessGrant.user_id), isouter=True)
        .where(grants)
        .order_by(col(AccessGrant.user_id), col(AccessGrant.id))
    ).all()
    return [
        GrantSpan(g.id or 0, g.user_id, name, g.model, g.request_id, g.starts_at, g.expires_at)
        for g, name in rows
    ]


def status_changes(
    session: Session, grants: ColumnElement[bool], until: datetime
) -> dict[int, list[StatusChange]]:
    """The status changes the audit trail recorded at or before `until` for each grant matching `grants`,
    in recorded order (event id: changes to one grant are made one at a time, under its row lock or the
    directive barrier). Streamed from the store; grants with no change are absent."""
    ids = select(cast(AccessGrant.id, String)).where(grants)
    query = (
        select(AuditEvent.subject_id, AuditEvent.at, AuditEvent.after)
        .where(
            AuditEvent.subject_type == "grant",
            col(AuditEvent.action).in_(STATUS_ACTIONS),
            col(AuditEvent.at) <= until,
            col(AuditEvent.subject_id).in_(ids),
        )
        .order_by(col(AuditEvent.id))
        .execution_options(yield_per=STREAM_BATCH)
    )
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for subject_id, at, after in session.exec(query):
        status = (after or {}).get("status")
        if isinstance(status, str):
            changes[int(subject_id)].append(StatusChange(at, status))
    return changes


def approvals_of(session: Session, grants: ColumnElement[bool]) -> dict[int, list[ApprovalRecord]]:
    """The decisions on the requests behind the grants matching `grants`, by request id, in step order."""
    approver = PersonRow
    rows = session.exec(
        select(Decision, RequestStep.name, approver.name)
        .join(
            RequestStep,
            and_(
                col(RequestStep.request_id) == col(Decision.request_id),
                col(RequestStep.position) == col(Decision.position),
            ),
        )
        .join(approver, col(approver.slack_user_id) == col(Decision.approver_id), isouter=True)
        .where(col(Decision.request_id).in_(select(AccessGrant.request_id).where(grants)))
        .order_by(
            col(Decision.request_id), col(Decision.position), col(Decision.decided_at), col(Decision.id)
        )
    ).all()
    found: dict[int, list[ApprovalRecord]] = defaultdict(list)
    for decision, step, name in rows:
        found[decision.request_id].append(
            ApprovalRecord(
                decision.position, step, decision.approver_id, name, decision.verdict, decision.decided_at
            )
        )
    return found


def licences_at(session: Session, grants: ColumnElement[bool], at: datetime) -> dict[int, list[LicenceBasis]]:
    """The licences each grant matching `grants` depended on that were in force at `at`: recorded by
    then, `at`'s day (UTC) within their validity, and not yet revoked or expired."""
    rows = session.exec(
        select(GrantLicence.grant_id, LicenceRow)
        .join(LicenceRow, col(LicenceRow.id) == col(GrantLicence.licence_id))
        .where(
            col(GrantLicence.grant_id).in_(select(AccessGrant.id).where(grants)),
            col(LicenceRow.recorded_at) <= at,
            col(LicenceRow.valid_from) <= at.date(),
            col(LicenceRow.valid_until) >= at.date(),
            or_(col(LicenceRow.ended_at).is_(None), col(LicenceRow.ended_at) > at),
        )
        .order_by(col(GrantLicence.grant_id), col(LicenceRow.id))
    ).all()
    found: dict[int, list[LicenceBasis]] = defaultdict(list)
    for grant_id, row in rows:
        found[grant_id].append(
            LicenceBasis(row.id or 0, row.authority, row.number, row.kind, row.valid_from, row.valid_until)
        )
    return found


def known_model(session: Session, model: str) -> bool:
    """Whether any grant was ever made for `model` (a model the catalog no longer lists keeps its
    history)."""
    return session.exec(select(AccessGrant.id).where(AccessGrant.model == model).limit(1)).first() is not None


def person_name(session: Session, user_id: str) -> str | None:
    """The person's name in the directory (departed people stay there); None when never listed."""
    row = session.get(PersonRow, user_id)
    return row.name if row else None


def ever_held(session: Session, user_id: str) -> bool:
    """Whether any grant was ever made to `user_id`."""
    return (
        session.exec(select(AccessGrant.id).where(AccessGrant.user_id == user_id).limit(1)).first()
        is not None
    )
