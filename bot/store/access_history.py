"""Recorded history read back for point-in-time access reports: grants, the status changes the audit
trail recorded for them, the approvals behind them and the licences they relied on (the rule that turns
these into "could use" is bot/domain/access_history.py).

The readers of grants take them as SQL over AccessGrant, so that each is one statement (or one streamed
statement) whatever the number of grants, never a query per grant; licences are read once for all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_
from sqlmodel import Session, col, select

from bot.domain.access_history import ApprovalRecord, GrantSpan, LicenceBasis, StatusChange
from bot.domain.directives import REQUIRE_LICENCE, Population, parse_population
from bot.domain.licences import Licence, covering, utc_day
from bot.domain.people import Person
from bot.domain.status import LicenceStatus
from bot.store.directory import chunks, load_people
from bot.store.tables import (
    AccessGrant,
    AuditEvent,
    Decision,
    Directive,
    DirectiveModel,
    RequestStep,
)
from bot.store.tables import Person as PersonRow

# The audit events that set a grant's status (each has `after.status`), other than its creation: the
# grant is active from its start (bot/domain/access_history.py). Named so that the action index narrows
# the scan.
STATUS_ACTIONS = ("grant.suspended", "grant.reinstated", "grant.revoked", "grant.expired")
# The audit events that record a person's directory entry whole (`after`).
PERSON_ACTIONS = ("person.added", "person.updated")
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


def status_changes(session: Session, grants: ColumnElement[bool]) -> dict[int, list[StatusChange]]:
    """The status changes the audit trail recorded for each grant matching `grants`, in recorded order
    (event id: changes to one grant are made one at a time, under its row lock or the directive
    barrier). Streamed from the store; grants with no change are absent.

    A change recorded late carries when it took effect (`detail.effective_at`, audit.effective: a
    scheduled directive put in force after its time, a licence found lapsed after midnight); it counts
    from then, but never before the grant's change recorded before it."""
    ids = select(cast(AccessGrant.id, String)).where(grants)
    query = (
        select(AuditEvent.subject_id, AuditEvent.at, AuditEvent.after, AuditEvent.detail)
        .where(
            AuditEvent.subject_type == "grant",
            col(AuditEvent.action).in_(STATUS_ACTIONS),
            # No bound on time: a change recorded after the instant asked about may have taken effect
            # before it. The rule reads each change's time.
            col(AuditEvent.subject_id).in_(ids),
        )
        .order_by(col(AuditEvent.id))
        .execution_options(yield_per=STREAM_BATCH)
    )
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for subject_id, at, after, detail in session.exec(query):
        status = (after or {}).get("status")
        if not isinstance(status, str):
            continue
        grant_changes = changes[int(subject_id)]
        took_effect = min(at, _effective_at(detail) or at)
        if grant_changes:
            took_effect = max(took_effect, grant_changes[-1].at)
        grant_changes.append(StatusChange(took_effect, status))
    return changes


def _effective_at(detail: dict[str, Any] | None) -> datetime | None:
    text = (detail or {}).get("effective_at")
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


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


LICENCE_ACTIONS = ("licence.recorded", "licence.updated", "licence.revoked", "licence.expired")


def licences_at(session: Session, spans: Sequence[GrantSpan], at: datetime) -> dict[int, list[LicenceBasis]]:
    """Grant id -> the export licences each grant relied on at `at`: while a require-licence directive
    naming its model was in force and covered the grant's holder, the licences that covered the holder
    then by the entitlement rule's own test (bot/domain/licences.py `covering`: held by them, naming the
    model, active, `at`'s day (UTC) within their validity, and naming every country their access was an
    export to). Terms and the holder's directory entry are read from the audit trail as it stood at
    `at`, so a later re-import (new dates, a new holder, a corrected citizenship) does not change the
    answer; someone the trail has no entry for is read from today's directory."""
    models = {span.model for span in spans}
    required = _licence_required_at(session, models, at)
    wanted = [span for span in spans if span.model in required]
    if not wanted:
        return {}
    terms = _licence_terms_at(session, at)
    recorded = [
        lic for licence_id, t in sorted(terms.items()) if (lic := _licence(licence_id, t)) is not None
    ]
    entries = _people_at(session, {span.user_id for span in wanted}, at)
    found: dict[int, list[LicenceBasis]] = {}
    for span in wanted:
        person = entries.get(span.user_id)
        if not any(population.covers(span.user_id, person) for population in required[span.model]):
            continue  # the directive did not reach them: they relied on no licence
        relied = [
            LicenceBasis(lic.licence_id, lic.authority, lic.number, lic.kind, lic.valid_from, lic.valid_until)
            for lic in covering(recorded, span.user_id, person, span.model, utc_day(at))
        ]
        if relied:
            found[span.id] = relied
    return found


def _licence(licence_id: int, terms: dict[str, Any]) -> Licence | None:
    """A licence as the rule reads it, from its terms as `_licence_terms_at` gives them; None for terms
    of another shape (not written by this version: relied on by nobody)."""
    try:
        return Licence(
            licence_id,
            str(terms["holder"]),
            frozenset(terms["models"]),
            frozenset(terms["countries"]),
            terms["valid_from"],
            terms["valid_until"],
            LicenceStatus(terms["status"]),
            number=str(terms["number"]),
            authority=str(terms["authority"]),
            kind=str(terms["kind"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _licence_required_at(session: Session, models: set[str], at: datetime) -> dict[str, list[Population]]:
    """Model -> the populations of the require-licence directives in force at `at` (issued, their
    effective time reached, not lifted or withdrawn by then) that name it, for the models among
    `models` that any names."""
    if not models:
        return {}
    rows = session.exec(
        select(DirectiveModel.model, Directive.population)
        .join(Directive, col(Directive.id) == col(DirectiveModel.directive_id))
        .where(
            col(DirectiveModel.model).in_(sorted(models)),
            Directive.action == REQUIRE_LICENCE,
            col(Directive.issued_at).is_not(None),
            col(Directive.effective_at) <= at,
            or_(col(Directive.lifted_at).is_(None), col(Directive.lifted_at) > at),
        )
    )
    required: dict[str, list[Population]] = defaultdict(list)
    for model, population in rows:
        required[model].append(parse_population(population))
    return required


def _people_at(session: Session, user_ids: set[str], at: datetime) -> dict[str, Person]:
    """User id -> their directory entry as the audit trail recorded it by `at` (the last `person.added`
    or `person.updated` event then); today's entry for those the trail has none for by then but the
    directory lists. Someone in neither is absent (unknown facts: covered by every directive, covered
    by no licence)."""
    entries: dict[str, Person] = {}
    for part in chunks(sorted(user_ids)):
        for subject_id, after in session.exec(
            select(AuditEvent.subject_id, AuditEvent.after)
            .where(
                AuditEvent.subject_type == "person",
                col(AuditEvent.action).in_(PERSON_ACTIONS),
                col(AuditEvent.subject_id).in_(part),
                col(AuditEvent.at) <= at,
            )
            .order_by(col(AuditEvent.id))
        ):
            entry = _recorded_person(subject_id, after)
            if entry is not None:
                entries[subject_id] = entry
    missing = user_ids - entries.keys()
    return {**load_people(session, missing), **entries} if missing else entries


def _recorded_person(user_id: str, after: Any) -> Person | None:
    """A directory entry as bot/services/directory.py audits it; None for a record of another shape."""
    if not isinstance(after, dict):
        return None
    citizenships, country, us_person = (
        after.get("citizenships"),
        after.get("work_country"),
        after.get("us_person"),
    )
    if (
        not isinstance(citizenships, list)
        or not all(isinstance(code, str) for code in citizenships)
        or not isinstance(country, str | None)
        or not isinstance(us_person, bool | None)
    ):
        return None
    return Person(
        slack_user_id=user_id,
        email=str(after.get("email") or ""),
        name=str(after.get("name") or ""),
        work_country=country,
        citizenships=frozenset(citizenships),
        us_person=us_person,
    )


def _licence_terms_at(session: Session, at: datetime) -> dict[int, dict[str, Any]]:
    """Licence id -> its terms and status as the audit trail had recorded them at `at` (licences
    recorded later are absent)."""
    terms: dict[int, dict[str, Any]] = {}
    for subject_id, action, after in session.exec(
        select(AuditEvent.subject_id, AuditEvent.action, AuditEvent.after)
        .where(
            AuditEvent.subject_type == "licence",
            col(AuditEvent.action).in_(LICENCE_ACTIONS),
            col(AuditEvent.at) <= at,
        )
        .order_by(col(AuditEvent.id))
    ):
        licence_id, recorded = int(subject_id), after or {}
        if action in ("licence.recorded", "licence.updated"):
            try:
                terms[licence_id] = {
                    **recorded,
                    "models": set(recorded["models"]),
                    "valid_from": date.fromisoformat(recorded["valid_from"]),
                    "valid_until": date.fromisoformat(recorded["valid_until"]),
                }
            except (KeyError, TypeError, ValueError):
                terms.pop(licence_id, None)  # not terms this version wrote: not relied on
        elif licence_id in terms and isinstance(recorded.get("status"), str):
            terms[licence_id]["status"] = recorded["status"]
    return terms


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
