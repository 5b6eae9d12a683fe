"""The unit of work: one transaction per `with db.uow()`, rolled back unless committed; `db.read()` for
queries only; writers serialised; and the database itself refusing duplicate pending requests and
duplicate held grants, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store.db import Database, WriterQueue
from bot.store.requests import lock_request
from bot.store.tables import AccessGrant, AccessRequest, Person
from bot.store.types import utcnow
from tests.integration.workspace import ALICE, BORIS


def person(user_id: str = ALICE, name: str = "Alice Chen") -> Person:
    return Person(slack_user_id=user_id, email=f"{user_id.lower()}@example.com", name=name)


def access_request(requester: str = ALICE, model: str = "mythos-5", status: str = "pending") -> AccessRequest:
    return AccessRequest(
        requester_id=requester,
        model=model,
        duration_seconds=3600,
        justification="Evaluating summarisation quality",
        status=status,
    )


def grant(user: str = ALICE, model: str = "mythos-5", status: str = "active") -> AccessGrant:
    """A grant row; an ended one (expired, revoked) records when it ended, as every path that ends one
    does (ck_access_grant_ended)."""
    ended = None if status in ("active", "suspended") else utcnow()
    return AccessGrant(
        user_id=user, model=model, status=status, expires_at=utcnow() + timedelta(days=1), ended_at=ended
    )


def people(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(p.slack_user_id for p in session.exec(select(Person)))


def add_all(db: Database, *rows: AccessRequest | AccessGrant) -> None:
    with db.uow() as uow:
        for row in rows:
            uow.session.add(row)
            uow.session.flush()
        uow.commit()


# -- transactions ---------------------------------------------------------------------------------


def test_work_not_committed_is_rolled_back_when_the_block_ends(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(person())
        uow.session.flush()  # written inside the transaction, so only the rollback can undo it

    assert people(db) == []


def test_work_is_rolled_back_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError, match="policy check crashed"), db.uow() as uow:
        uow.session.add(person())
        uow.session.flush()
        raise RuntimeError("policy check crashed")

    assert people(db) == []


def test_only_what_was_committed_survives(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(person(ALICE))
        uow.commit()
        uow.session.add(person(BORIS, "Boris Ivanov"))
        uow.session.flush()

    assert people(db) == [ALICE]


def test_committed_objects_stay_readable_after_the_block(db: Database) -> None:
    with db.uow() as uow:
        request = access_request()
        uow.session.add(request)
        uow.commit()

    # The session is closed: these come from the loaded object, not from a lazy load.
    assert request.id is not None
    assert request.status == "pending"
    assert request.requester_id == ALICE
    assert request.created_at.utcoffset() == timedelta(0)
    with db.read() as session:
        stored = session.get(AccessRequest, request.id)
    assert stored is not None
    assert stored.justification == request.justification


def test_read_never_commits(db: Database) -> None:
    with db.read() as session:
        session.add(person())
        session.flush()
        assert session.exec(select(Person)).one().slack_user_id == ALICE  # visible inside only

    assert people(db) == []


def test_objects_loaded_by_read_stay_readable_after_the_block(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(person())
        uow.commit()

    with db.read() as session:
        loaded = session.exec(select(Person)).one()

    assert loaded.name == "Alice Chen"
    assert loaded.email == "u0alice01@example.com"


def test_read_is_not_blocked_by_an_open_write_and_does_not_see_it(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(person(ALICE))
        uow.commit()

    seen: list[list[str]] = []
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with db.uow() as uow:
            uow.session.add(person(BORIS, "Boris Ivanov"))
            uow.session.flush()
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        seen.append(people(db))
        # The read returned while the writer still holds its open transaction: it did not wait for it.
        reader_finished_first = thread.is_alive()
    finally:
        done.set()
        thread.join(10)

    assert seen == [[ALICE]]
    assert reader_finished_first
    assert people(db) == [ALICE]  # the writer never committed


def test_two_writers_doing_read_then_write_never_lose_an_increment(db: Database) -> None:
    """The pattern every service uses (read a row, decide, write it back) is safe with two threads:
    SQLite's write transaction starts with the write lock; PostgreSQL needs SELECT ... FOR UPDATE."""
    add_all(db, access_request())
    with db.read() as session:
        request_id = session.exec(select(AccessRequest.id)).one()
    assert request_id is not None
    rounds = 50
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def load(session: Session) -> AccessRequest | None:
        if db.is_postgres:
            return lock_request(session, request_id)
        return session.exec(select(AccessRequest).where(AccessRequest.id == request_id)).first()

    def increment() -> None:
        try:
            start.wait(10)
            for _ in range(rounds):
                with db.uow() as uow:
                    row = load(uow.session)
                    assert row is not None
                    seen = row.step_count
                    time.sleep(0.001)  # widen the window between the read and the write
                    row.step_count = seen + 1
                    uow.session.add(row)
                    uow.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    with db.read() as session:
        final = session.get(AccessRequest, request_id)
    assert final is not None
    assert final.step_count == 2 * rounds


# -- partial unique indexes -----------------------------------------------------------------------


def test_a_second_pending_request_for_the_same_model_is_refused(db: Database) -> None:
    add_all(db, access_request())

    with pytest.raises(IntegrityError):
        add_all(db, access_request())

    with db.read() as session:
        assert len(session.exec(select(AccessRequest)).all()) == 1


def test_two_pending_requests_racing_in_one_transaction_are_refused(db: Database) -> None:
    with pytest.raises(IntegrityError):
        add_all(db, access_request(), access_request())

    with db.read() as session:
        assert session.exec(select(AccessRequest)).all() == []


@pytest.mark.parametrize("earlier", ["denied", "cancelled", "approved", "expired"])
def test_a_new_pending_request_is_allowed_beside_a_decided_one(db: Database, earlier: str) -> None:
    add_all(db, access_request(status=earlier))
    add_all(db, access_request())

    with db.read() as session:
        statuses = sorted(r.status for r in session.exec(select(AccessRequest)))
    assert statuses == sorted([earlier, "pending"])


def test_pending_requests_for_other_people_or_models_are_independent(db: Database) -> None:
    add_all(
        db,
        access_request(ALICE, "mythos-5"),
        access_request(ALICE, "fable-5"),
        access_request(BORIS, "mythos-5"),
    )

    with db.read() as session:
        assert len(session.exec(select(AccessRequest)).all()) == 3


def test_a_request_can_be_filed_again_after_the_pending_one_is_denied(db: Database) -> None:
    add_all(db, access_request())
    with db.uow() as uow:
        pending = uow.session.exec(select(AccessRequest)).one()
        pending.status = "denied"
        uow.session.add(pending)
        uow.commit()

    add_all(db, access_request())

    with db.read() as session:
        assert sorted(r.status for r in session.exec(select(AccessRequest))) == ["denied", "pending"]


@pytest.mark.parametrize("second", ["active", "suspended"])
def test_a_person_holds_at_most_one_grant_per_model(db: Database, second: str) -> None:
    add_all(db, grant(status="active"))

    with pytest.raises(IntegrityError):
        add_all(db, grant(status=second))

    with db.read() as session:
        assert [g.status for g in session.exec(select(AccessGrant))] == ["active"]


@pytest.mark.parametrize("ended", ["expired", "revoked"])
def test_an_ended_grant_does_not_block_a_new_active_one(db: Database, ended: str) -> None:
    add_all(db, grant(status=ended), grant(status=ended))
    add_all(db, grant(status="active"))

    with db.read() as session:
        assert sorted(g.status for g in session.exec(select(AccessGrant))) == sorted([ended, ended, "active"])


@pytest.mark.parametrize(("status", "ended"), [("active", True), ("suspended", True), ("revoked", False)])
def test_a_grant_is_ended_exactly_when_its_status_is_final(db: Database, status: str, ended: bool) -> None:
    # The held-grant indexes read ended_at; a row whose status says otherwise is refused.
    row = grant(status=status)
    row.ended_at = utcnow() if ended else None

    with pytest.raises(IntegrityError):
        add_all(db, row)

    with db.read() as session:
        assert session.exec(select(AccessGrant)).all() == []


def test_active_grants_for_other_people_or_models_are_independent(db: Database) -> None:
    add_all(db, grant(ALICE, "mythos-5"), grant(ALICE, "fable-5"), grant(BORIS, "mythos-5"))

    with db.read() as session:
        assert len(session.exec(select(AccessGrant)).all()) == 3


def test_rows_are_stamped_by_the_clock_of_the_transaction_that_writes_them(db: Database) -> None:
    moment = utcnow().replace(microsecond=0) + timedelta(days=400)
    with db.uow(lambda: moment) as uow:
        uow.session.add(person())
        uow.session.add(grant())
        uow.commit()
    with db.read() as session:
        held = session.exec(select(AccessGrant)).one()
        alice = session.exec(select(Person)).one()
    assert held.created_at == held.updated_at == held.starts_at == moment
    assert alice.created_at == moment
    # A stamp given explicitly is kept.
    earlier = moment - timedelta(days=1)
    with db.uow(lambda: moment) as uow:
        uow.session.add(
            AccessGrant(
                user_id=BORIS, model="mythos-5", starts_at=earlier, expires_at=moment + timedelta(days=1)
            )
        )
        uow.commit()
    with db.read() as session:
        boris = session.exec(select(AccessGrant).where(AccessGrant.user_id == BORIS)).one()
    assert boris.starts_at == earlier and boris.created_at == moment


def test_postgres_sessions_run_without_jit_unless_the_url_sets_options(db: Database) -> None:
    """JIT compilation costs the bulk re-check and directive statements more than it saves (see
    bot/store/db.py); a DATABASE_URL that sets its own `options` keeps them."""
    if not db.is_postgres:
        pytest.skip("PostgreSQL only")
    with db.read() as session:
        assert session.exec(text("SHOW jit")).one()[0] == "off"  # type: ignore[call-overload]
    custom = Database(db.engine.url.update_query_dict({"options": "-c jit=on"}).render_as_string(False))
    try:
        with custom.read() as session:
            assert session.exec(text("SHOW jit")).one()[0] == "on"  # type: ignore[call-overload]
    finally:
        custom.dispose()


def test_sqlite_writers_of_one_process_take_turns(db: Database) -> None:
    # The second writer waits its turn in the process (bot/store/db.py WriterQueue), not in SQLite's busy
    # handler, and starts once the first has committed. (PostgreSQL writers wait only on rows they share.)
    if db.is_postgres:
        pytest.skip("SQLite only")
    first_in, first_may_end = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with db.uow() as uow:
            uow.session.add(person(ALICE))
            uow.session.flush()
            first_in.set()
            first_may_end.wait(30)
            order.append("first commits")
            uow.commit()

    def second() -> None:
        with db.uow() as uow:
            seen = uow.session.exec(select(Person).where(Person.slack_user_id == ALICE)).first()
            order.append("second sees Alice" if seen else "second does not see Alice")
            uow.session.add(person(BORIS, "Boris Ivanov"))
            uow.commit()

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(30)
    two = threading.Thread(target=second)
    two.start()
    first_may_end.set()
    one.join(30)
    two.join(30)
    assert order == ["first commits", "second sees Alice"]


def test_a_writer_queue_lets_a_transaction_go_without_its_turn_after_the_busy_timeout() -> None:
    # Then it meets SQLite's own lock and its "database is locked", as before the queue, instead of
    # waiting for ever behind a transaction that never ends.
    queue = WriterQueue(timeout=0.01)
    holder_in, holder_may_end = threading.Event(), threading.Event()

    def hold() -> None:
        assert queue.join()
        holder_in.set()
        holder_may_end.wait(30)
        queue.leave()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holder_in.wait(30)
    assert queue.join() is False
    holder_may_end.set()
    holder.join(30)
    assert queue.join() is True
    queue.leave()
