"""Sealing audit events into one chain while they are being written: writers and sealers at once (two
replicas on PostgreSQL), a transaction that commits late with a lower id, and set-based writes of
thousands of events in one statement."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from bot.services import audit_chain
from bot.store import audit
from bot.store.db import Database
from bot.store.tables import AccessGrant, AuditEvent
from bot.store.types import utcnow
from tests.support.seed import add_grants


def write_events(db: Database, writer: str, count: int) -> None:
    with db.uow() as uow:
        for number in range(count):
            audit.record(
                uow.session, actor=writer, action="test.written", subject_type="test",
                subject_id=f"{writer}-{number}", detail={"number": number, "text": "Zoë ✓"},
            )  # fmt: skip
        uow.commit()


def chain_positions(db: Database) -> list[int | None]:
    with db.read() as session:
        return list(session.exec(select(AuditEvent.seq).order_by(col(AuditEvent.seq))).all())


def test_writers_and_sealers_at_once_make_one_valid_chain(db: Database) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def replica(name: str) -> None:
        try:
            start.wait()
            for round_number in range(15):
                write_events(db, f"{name}", 20)
                if round_number % 2:
                    audit_chain.seal(db)
        except BaseException as error:  # reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=replica, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    audit_chain.seal(db)

    verdict = audit_chain.verify(db)
    assert verdict.finding is None
    # Every event (the migration's own included) has one place in one chain, without gaps.
    assert verdict.events == 1 + 2 * 15 * 20 and verdict.unsealed == 0
    assert chain_positions(db) == list(range(1, verdict.events + 1))


def test_an_event_committed_late_with_a_lower_id_gets_a_later_place(db: Database) -> None:
    """A long transaction's event (its id taken first) commits after later events were sealed: it joins
    the chain after them, and the chain verifies."""
    late = db.uow()
    with late:
        audit.record(late.session, actor="slow", action="test.late", subject_type="test", subject_id="late")
        late.session.flush()  # takes its id now (on PostgreSQL; SQLite lets no one else write meanwhile)
        if db.is_postgres:
            write_events(db, "quick", 3)
            audit_chain.seal(db)
        late.commit()
    if not db.is_postgres:
        write_events(db, "quick", 3)
    audit_chain.seal(db)

    with db.read() as session:
        slow = session.exec(select(AuditEvent).where(AuditEvent.action == "test.late")).one()
        newest = session.exec(select(func.max(AuditEvent.seq))).one()
    if db.is_postgres:
        assert slow.seq == newest  # sealed last although its id is lower than the quick writer's
    verdict = audit_chain.verify(db)
    assert verdict.finding is None and verdict.events == newest == 5


def test_thousands_of_events_written_in_one_statement_are_sealed_in_batches(db: Database) -> None:
    add_grants(db.url, [f"U0MANY{n:05d}" for n in range(5000)], "mythos-5")
    with db.uow() as uow:
        # One event per grant in a single INSERT … SELECT, as a directive writes them.
        audit.record_rows(
            uow.session, utcnow(), "system", "grant.suspended", "grant", AccessGrant.id,
            before={"status": "active"}, after={"status": "suspended"}, detail={"reason": "test"},
            where=col(AccessGrant.model) == "mythos-5",
        )  # fmt: skip
        uow.commit()

    assert audit_chain.seal(db) == 5000
    verdict = audit_chain.verify(db)
    assert (verdict.finding, verdict.events, verdict.unsealed) == (None, 5001, 0)


def sealed_chain_then_an_old_event(db: Database) -> AuditEvent:
    """A sealed chain of a few events, then an event dated three days before them, not sealed."""
    write_events(db, "w", 2)
    audit_chain.seal(db)
    with db.uow() as uow:
        forged = audit.record(
            uow.session, actor="U0EVE0001", action="grant.created", subject_type="grant", subject_id="9"
        )
        forged.at = utcnow() - timedelta(days=3)
        uow.commit()
    return forged


def test_an_unsealed_event_dated_before_the_chain_is_an_insertion(db: Database) -> None:
    forged = sealed_chain_then_an_old_event(db)

    finding = audit_chain.verify(db).finding
    assert finding is not None
    assert (finding.problem, finding.event_id) == ("inserted", forged.id)


def test_an_insertion_sealed_while_the_check_reads_is_still_found(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads the sealed events, then the unsealed ones. A sealer that seals the inserted event
    in between (another replica's timer) must not hide it in neither: the check reads one snapshot."""
    forged = sealed_chain_then_an_old_event(db)
    read_unsealed = audit_chain.chain.unsealed

    def sealed_meanwhile(session: Session) -> tuple[int, tuple[int, datetime] | None]:
        audit_chain.seal(db)  # in a transaction of its own, committed before the check reads on
        return read_unsealed(session)

    monkeypatch.setattr(audit_chain.chain, "unsealed", sealed_meanwhile)
    finding = audit_chain.verify(db).finding
    assert finding is not None
    assert (finding.problem, finding.event_id) == ("inserted", forged.id)
    # Sealed now: the next check finds it in the chain instead.
    monkeypatch.setattr(audit_chain.chain, "unsealed", read_unsealed)
    assert audit_chain.verify(db).unsealed == 0
    assert audit_chain.verify(db).finding is not None
