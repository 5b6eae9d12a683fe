"""Export licences: recording, importing and revoking them, their lapse, and the warnings before it.

Every change to a licence is an input change of the entitlement rule: it is re-checked in the same
transaction (bot/services/recheck.py), so a revoked or lapsed licence suspends the grants that depended
on it, and a new one gives back grants a require-licence directive held, in the same commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain.licences import (
    CSV_COLUMNS,
    MAX_REASON,
    REQUIRED_COLUMNS,
    LicenceError,
    LicenceTerms,
    label,
    number_key,
    parse_terms,
    utc_day,
)
from bot.domain.people import FileProblems, check_header, is_slack_user_id
from bot.domain.status import LicenceStatus
from bot.domain.text import clean_text
from bot.domain.webhooks import LICENCE_EXPIRED, LICENCE_RECORDED, LICENCE_REVOKED, LICENCE_UPDATED
from bot.notify import outbox
from bot.present.licences import lapse_warning
from bot.services.context import Context
from bot.services.csv_files import read_csv
from bot.services.recheck import RecheckResult, recheck
from bot.services.webhook_events import licence_event
from bot.store import audit
from bot.store import directory as people
from bot.store import licences as store
from bot.store.licences import StoredLicence
from bot.store.locks import directive_barrier

LAPSED = "its last day passed"


class LicenceFileError(FileProblems):
    """A licence file that cannot be imported (nothing of it was)."""


@dataclass(frozen=True)
class LicenceChange:
    """A licence recorded or revoked, and what the re-check in the same transaction changed."""

    licence_id: int
    recheck: RecheckResult
    # Recorded with a last day already past: on record as expired, exempting nobody.
    expired: bool = False


@dataclass(frozen=True)
class LicenceImport:
    """What an import did: licences added, updated and unchanged, and what the re-check changed."""

    added: int
    updated: int
    unchanged: int
    recheck: RecheckResult | None = None


def _holder(session: Session, holder: str) -> tuple[str, bool]:
    """(Slack user ID, departed) of a licence holder given by user ID or e-mail. Raises LicenceError
    when nobody in the directory matches."""
    person = people.find_person(session, holder)
    if person is None:
        raise LicenceError(f"holder {holder} is not in the directory", "holder")
    return person.slack_user_id, people.is_departed(session, person.slack_user_id)


def _departed(holder: str) -> LicenceError:
    return LicenceError(f"holder {holder} has left: the directory marks them departed", "holder")


def _record_of(terms: LicenceTerms, holder_id: str, status: str) -> dict[str, Any]:
    return {
        "number": terms.number,
        "authority": terms.authority,
        "kind": terms.kind,
        "holder": holder_id,
        "models": sorted(terms.models),
        "countries": sorted(terms.countries),
        "valid_from": terms.valid_from.isoformat(),
        "valid_until": terms.valid_until.isoformat(),
        "conditions": terms.conditions,
        "status": status,
    }


def _existing_terms(record: StoredLicence) -> dict[str, Any]:
    row = record.row
    return {
        "number": row.number,
        "authority": row.authority,
        "kind": row.kind,
        "holder": row.holder_id,
        "models": list(record.models),
        "countries": list(record.countries),
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat(),
        "conditions": row.conditions,
        "status": row.status,
    }


def _store_terms(
    ctx: Context, session: Session, terms: LicenceTerms, actor: str, source: dict[str, str]
) -> tuple[str, int]:
    """Add the licence, or bring the one with its authority and number (whatever their case) in line
    with `terms`; audited. Returns ("added", "updated" or "unchanged", its id). Raises LicenceError for
    a holder not in the directory, a holder who is the actor, a new or changed licence for a departed
    holder, or a change to a licence that has ended. A licence whose last day has passed is recorded
    expired."""
    holder_id, departed = _holder(session, terms.holder)
    if holder_id == actor:
        # Separation of duties: a licence lets its holder past a require-licence directive, so whoever
        # records or changes it must be someone else (the command line's actor is never a Slack user).
        raise LicenceError(
            "you hold this licence yourself: another export-compliance officer or access admin must "
            "record it",
            "holder",
        )
    now = ctx.clock()
    expired = terms.valid_until < utc_day(now)
    existing = store.by_number(session, terms.authority, terms.number)
    if existing is None:
        if departed:
            raise _departed(terms.holder)
        row = store.add_licence(session, terms, holder_id, actor, now, LicenceStatus.ACTIVE)
        if expired:
            store.end_licence(session, row, LicenceStatus.EXPIRED, audit.SYSTEM, LAPSED, now)
        audit.record(
            session, actor=actor, action="licence.recorded", subject_type="licence", subject_id=row.id or 0,
            after=_record_of(terms, holder_id, row.status), detail=source,
        )  # fmt: skip
        licence_event(session, LICENCE_RECORDED, row.id or 0, actor=actor)
        return "added", row.id or 0
    # The spelling on record stays: `bis EX-1` is the licence recorded as `BIS EX-1`.
    terms = replace(terms, authority=existing.row.authority, number=existing.row.number)
    before = _existing_terms(existing)
    after = _record_of(terms, holder_id, existing.row.status)
    if before == after:
        return "unchanged", existing.row.id or 0
    if departed:
        raise _departed(terms.holder)
    if existing.row.status != LicenceStatus.ACTIVE:
        raise LicenceError(
            f"licence {terms.authority} {terms.number} ({label(existing.row.id or 0)}) is "
            f"{existing.row.status} and cannot be changed; record the renewal under its new number",
            "number",
        )
    store.update_licence(session, existing.row, terms, holder_id, now)
    if expired:
        store.end_licence(session, existing.row, LicenceStatus.EXPIRED, audit.SYSTEM, LAPSED, now)
        after["status"] = LicenceStatus.EXPIRED
    audit.record(
        session, actor=actor, action="licence.updated", subject_type="licence",
        subject_id=existing.row.id or 0, before=before, after=after, detail=source,
    )  # fmt: skip
    licence_event(session, LICENCE_UPDATED, existing.row.id or 0, actor=actor)
    return "updated", existing.row.id or 0


# Where a licence recorded one at a time was typed, for the audit trail (`detail.source` of
# `licence.recorded`; an import records its file's name).
FORM, COMMAND_LINE = "form", "command line"


def record_licence(
    ctx: Context, fields: Mapping[str, str | None], *, actor: str, source: str = FORM
) -> LicenceChange:
    """Record one licence from its fields as typed (see parse_terms) where `source` says (FORM or
    COMMAND_LINE, audited), then re-check in the same transaction. Raises LicenceError (nothing
    recorded) for a bad field, a holder not in the directory or who is `actor` (nobody records their
    own licence), or a licence whose authority and number are already on record."""
    terms = parse_terms(fields, ctx.catalog.models)
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        if (existing := store.by_number(session, terms.authority, terms.number)) is not None:
            known = label(existing.row.id or 0)
            raise LicenceError(
                f"licence {terms.authority} {terms.number} is already on record as {known}", "number"
            )
        _, licence_id = _store_terms(ctx, session, terms, actor, {"source": source})
        result = recheck(ctx, session, trigger="licence recorded", actor=actor)
        uow.commit()
    return LicenceChange(licence_id, result, expired=terms.valid_until < utc_day(ctx.clock()))


def _read_rows(ctx: Context, path: Path) -> tuple[list[tuple[int, LicenceTerms]], list[tuple[int, str]]]:
    """The well-formed licences of the CSV at `path` with their lines, and (line, problem) for every
    other row. Raises LicenceFileError when the file itself cannot be read as CSV."""
    try:
        rows = read_csv(path, lambda columns: check_header(columns, CSV_COLUMNS, REQUIRED_COLUMNS))
    except FileProblems as error:
        raise LicenceFileError(error.problems) from None
    found: list[tuple[int, LicenceTerms]] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        if None in row:  # surplus cells are listed under the key None
            problems.append((line, "more cells than the header has columns"))
            continue
        try:
            terms = parse_terms({key.strip(): value for key, value in row.items()}, ctx.catalog.models)
        except LicenceError as error:
            problems.append((line, str(error)))
            continue
        key = number_key(terms.authority, terms.number)  # the key the licence is stored under
        if key in first_line:
            problems.append(
                (line, f"licence {terms.authority} {terms.number} is also on line {first_line[key]}")
            )
            continue
        first_line[key] = line
        found.append((line, terms))
    if not found and not problems:
        problems.append((1, "no licences in the file"))
    return found, problems


def import_licences(ctx: Context, path: Path, *, actor: str) -> LicenceImport:
    """Add or update every licence in the file at `path` in one transaction (matched by authority and
    number; re-importing the same file changes nothing), each audited, then re-check in the same
    transaction. Raises LicenceFileError (nothing imported) for any bad line."""
    licences, problems = _read_rows(ctx, path)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    source = {"source": clean_text(path.name)}
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        # Rows that read well are tried against the directory and the record too, so that one run
        # names every bad line; nothing is committed unless none is.
        for line, terms in licences:
            try:
                counts[_store_terms(ctx, session, terms, actor, source)[0]] += 1
            except LicenceError as error:
                problems.append((line, str(error)))
        if problems:
            raise LicenceFileError(sorted(problems))
        try:
            session.flush()
        except IntegrityError:
            raise LicenceFileError([(0, "a licence number collides with another; import again")]) from None
        result = None
        if counts["added"] or counts["updated"]:
            result = recheck(ctx, session, trigger="licence import", actor=actor)
        uow.commit()
    return LicenceImport(counts["added"], counts["updated"], counts["unchanged"], result)


def revoke_licence(ctx: Context, licence_id: int, reason: str, *, actor: str) -> LicenceChange:
    """Revoke an active licence with the reason, audited, then re-check in the same transaction: the
    grants that depended on it are suspended unless another licence covers them. Raises LicenceError
    for a missing reason, an unknown licence, or one that has already ended."""
    reason = clean_text(reason).strip()
    if not reason:
        raise LicenceError("say why the licence is revoked (--reason)", "reason")
    if len(reason) > MAX_REASON:
        raise LicenceError(f"the reason is longer than {MAX_REASON} characters", "reason")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        record = store.find_licence(session, licence_id, lock=True)
        if record is None:
            raise LicenceError(f"there is no licence {label(licence_id)}", "id")
        if record.row.status != LicenceStatus.ACTIVE:
            raise LicenceError(f"{label(licence_id)} is already {record.row.status}", "id")
        store.end_licence(session, record.row, LicenceStatus.REVOKED, actor, reason, ctx.clock())
        audit.record(
            session, actor=actor, action="licence.revoked", subject_type="licence", subject_id=licence_id,
            before={"status": LicenceStatus.ACTIVE}, after={"status": LicenceStatus.REVOKED},
            detail={"reason": reason},
        )  # fmt: skip
        licence_event(session, LICENCE_REVOKED, licence_id, actor=actor)
        result = recheck(ctx, session, trigger="licence revoked", actor=actor)
        uow.commit()
    return LicenceChange(licence_id, result)


def lapse_licences(ctx: Context) -> int:
    """Mark every active licence whose last day has passed expired (audited `licence.expired`) and
    re-check in the same transaction. A scheduler job; returns how many lapsed."""
    with ctx.read() as session:
        if not store.lapsed(session, utc_day(ctx.clock()), lock=False):
            return 0  # the usual case: no need to take turns with directives and approvals
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        now = ctx.clock()
        rows = store.lapsed(session, utc_day(now))
        if not rows:
            return 0
        for row in rows:
            store.end_licence(session, row, LicenceStatus.EXPIRED, audit.SYSTEM, LAPSED, now)
            audit.record(
                session, actor=audit.SYSTEM, action="licence.expired", subject_type="licence",
                subject_id=row.id or 0, before={"status": LicenceStatus.ACTIVE},
                after={"status": LicenceStatus.EXPIRED}, detail={"valid_until": row.valid_until.isoformat()},
            )  # fmt: skip
            licence_event(session, LICENCE_EXPIRED, row.id or 0, actor=audit.SYSTEM)
        # Gateways stopped counting these licences at the start of the day after their last day (UTC):
        # that is when the grants that relied on them stopped (the latest such day, when the job was
        # down over several).
        lapsed_at = datetime.combine(max(row.valid_until for row in rows) + timedelta(days=1), time(), UTC)
        recheck(ctx, session, trigger="licence lapsed", effective_at=lapsed_at)
        uow.commit()
    return len(rows)


def warn_lapsing(ctx: Context) -> int:
    """Queue the warnings due (policy `licence_warning_days`, 30 and 7 days before a licence's last
    day by default): a DM to the holder and to everyone with the export-compliance role, once per
    licence and lead time. A scheduler job; returns how many licences were warned about."""
    policy = ctx.catalog.policy
    with ctx.uow() as uow:
        session = uow.session
        # Shared with other runs, and taken in turn with a licence's recording, import, revocation or
        # lapse: a warning is never queued with a last day that an update is changing at that moment.
        directive_barrier(session, exclusive=False)
        now = ctx.clock()
        due = store.due_warnings(session, utc_day(now), policy.licence_warning_days)
        if not due:
            return 0
        compliance = people.holders_of_role(session, policy.compliance_role)
        departed = people.departed_ids(session, [*compliance, *(row.holder_id for row, _ in due)])
        officers = [u for u in compliance if u not in departed]
        warned = 0
        for row, lead in due:
            leads = [d for d in policy.licence_warning_days if d >= lead]
            if not store.claim_warning(session, row.id or 0, lead, leads, now):
                continue  # another run queued this warning since `due_warnings` read
            warned += 1
            # A holder who has left is not told; export compliance still is.
            holder = [] if row.holder_id in departed else [row.holder_id]
            for user_id in sorted({*holder, *officers}):
                if is_slack_user_id(user_id):
                    outbox.post(session, user_id, lapse_warning(row, utc_day(now), user_id == row.holder_id))
            audit.record(
                session, actor=audit.SYSTEM, action="licence.lapse_warned", subject_type="licence",
                subject_id=row.id or 0, detail={"days_before": lead},
            )  # fmt: skip
        uow.commit()
    return warned


def licences_on_record(
    ctx: Context, *, holder_id: str | None = None, status: LicenceStatus | None = None
) -> list[StoredLicence]:
    """Licences by id, each with its models, countries and the grants that depend on it: all, or
    those held by the Slack user `holder_id` and in `status`."""
    with ctx.read() as session:
        return store.list_licences(session, holder=holder_id, status=status)


def licence_on_record(ctx: Context, licence_id: int) -> StoredLicence | None:
    """One licence with its models, countries and the grants that depend on it; None if unknown."""
    with ctx.read() as session:
        return store.find_licence(session, licence_id, grants=True)
