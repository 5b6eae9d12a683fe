"""Importing the directory CSV: every row or none, idempotent, audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.domain.people import DirectoryError, FileProblems, Person, check_header, parse_rows
from bot.domain.text import clean_text
from bot.services import approvals, offboarding
from bot.services.context import Context
from bot.services.csv_files import read_csv
from bot.services.recheck import RecheckResult, recheck
from bot.store import audit
from bot.store import directory as people
from bot.store.locks import directive_barrier
from bot.store.offboarding import count_held
from bot.store.tables import Person as PersonRow


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with `dry_run`, would do): people added, changed and unchanged; with
    `full`, the people it marked departed and what that ended for them; `recheck` is what the
    re-check after the import changed (suspensions, reinstatements)."""

    added: int
    changed: int
    unchanged: int
    departed: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    grants_revoked: int = 0
    requests_cancelled: int = 0
    recheck: RecheckResult | None = None
    dry_run: bool = False
    # A dry run over the departure limit: why the import itself would be refused (without --force).
    refusal: str | None = None


class DepartureLimit(DirectoryError):
    """A full import would mark too many people departed at once (policy `max_departure_percent`)."""


def read_people(path: Path) -> list[Person]:
    """Parse the directory CSV at `path` (see DESIGN.md) into people, in file order. Cells are cleaned
    as parse_row says (control characters dropped, so a NUL is read the same for SQLite and
    PostgreSQL). Raises DirectoryError with (line, message) problems for a missing, oversized or
    non-UTF-8 file, a bad header, bad rows or no rows (nothing is imported then)."""
    try:
        rows = read_csv(path, check_header)
    except FileProblems as error:
        raise DirectoryError(error.problems) from None
    people_list = parse_rows(rows)
    if not people_list:
        raise DirectoryError([(1, "no people in the file")])
    return people_list


def import_directory(
    ctx: Context,
    path: Path,
    *,
    actor: str | None = None,
    full: bool = False,
    dry_run: bool = False,
    force: bool = False,
) -> ImportResult:
    """Add or update everyone in the file at `path` in one transaction, with an audit event per person
    added or changed (`actor`, default the CLI user), then re-check every grant and pending request
    against the entitlement rule in the same transaction (bot/services/recheck.py).

    With `full`, the file is the whole directory: everyone on record and not in it is marked departed
    (kept, never deleted): their held grants are revoked, their pending requests cancelled, their roles
    dropped (so approval steps waiting on them go elsewhere), each audited. Someone departed who is in
    the file again returns. A full import that would depart more than the policy's
    `max_departure_percent` of the people on record raises DepartureLimit unless `force`.

    With `dry_run`, nothing is written; the result says what would happen, over the departure limit too
    (its `refusal` then says why the import itself would be refused). Raises DirectoryError
    (nothing changed) when the file cannot be read or parsed, or an email belongs to someone not in
    the file."""
    people_list = read_people(path)
    actor = actor or audit.cli_actor()
    with ctx.uow() as uow:
        session = uow.session
        # The facts the entitlement rule reads change here: take turns with directives and approvals.
        directive_barrier(session, exclusive=True)
        incoming_ids = {p.slack_user_id for p in people_list}
        owners: dict[str, str] = {}
        for part in people.chunks([p.email for p in people_list]):
            owners.update(
                session.exec(
                    select(PersonRow.email, PersonRow.slack_user_id).where(col(PersonRow.email).in_(part))
                ).all()
            )
        problems = []
        for person in people_list:
            owner = owners.get(person.email)
            if owner and owner != person.slack_user_id and owner not in incoming_ids:
                problems.append(
                    (
                        0,
                        f"{person.slack_user_id}: email {person.email} already belongs to {owner}, "
                        "who is not in this file",
                    )
                )
        if problems:
            raise DirectoryError(problems)
        before = people.load_people(session, incoming_ids)
        departing: list[str] = []
        refusal = None
        if full:
            present = people.present_ids(session)
            departing = sorted(set(present) - incoming_ids)
            limit = ctx.catalog.policy.max_departure_percent
            if departing and not force and len(departing) * 100 > limit * max(len(present), 1):
                refusal = (
                    f"this full import would mark {len(departing)} of {len(present)} people "
                    f"departed, more than the {limit}% the policy allows at once "
                    "(max_departure_percent); check the file, or pass --force"
                )
                if not dry_run:
                    raise DepartureLimit([(0, refusal)])
        returning = sorted(people.departed_ids(session, incoming_ids))
        if dry_run:  # over the limit too: who would depart is what the person checking the file needs
            added = sum(1 for p in people_list if p.slack_user_id not in before)
            changed = sum(
                1 for p in people_list if p.slack_user_id in before and before[p.slack_user_id] != p
            )
            revoked, cancelled = count_held(session, departing)
            return ImportResult(
                added,
                changed,
                len(people_list) - added - changed,
                tuple(departing),
                tuple(returning),
                revoked,
                cancelled,
                dry_run=True,
                refusal=refusal,
            )
        try:
            added, changed, unchanged = people.upsert_people(session, people_list, before)
        except IntegrityError:
            # Emails are unique: two people swapping emails in one file collide mid-update.
            raise DirectoryError(
                [(0, "two people's emails collide (were emails swapped?); import the change in two steps")]
            ) from None
        source = {"source": clean_text(path.name)}
        for person in people_list:
            previous = before.get(person.slack_user_id)
            if previous == person:
                continue
            audit.record(
                session,
                actor=actor,
                action="person.added" if previous is None else "person.updated",
                subject_type="person",
                subject_id=person.slack_user_id,
                before=_person_record(previous) if previous else None,
                after=_person_record(person),
                # A file name may hold any bytes (undecodable ones arrive as lone surrogates, which
                # PostgreSQL's JSON refuses): store it as any other text.
                detail=source,
            )
        people.set_departed(session, returning, False)
        for user_id in returning:
            audit.record(
                session, actor=actor, action="person.returned", subject_type="person", subject_id=user_id,
                detail=source,
            )  # fmt: skip
        revoked, cancelled = offboarding.depart(ctx, session, departing, actor=actor, detail=source)
        result = recheck(ctx, session, trigger="directory import", actor=actor)
        uow.commit()
    if departing:
        approvals.reroute_stranded(ctx)  # steps that waited on someone who left go to the admins now
    return ImportResult(
        added, changed, unchanged, tuple(departing), tuple(returning), revoked, cancelled, result
    )


def _person_record(person: Person) -> dict[str, Any]:
    data = asdict(person)
    data["citizenships"] = sorted(person.citizenships)
    data["roles"] = sorted(person.roles)
    return data
