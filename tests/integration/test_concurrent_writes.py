"""Two writers acting on the same thing at the same moment on PostgreSQL record it once: the second waits
for the first and then finds the work done. Each test stops the first writer just before it commits,
lets the second run until it waits on the first (or ends), and then lets the first commit.

SQLite runs one write transaction at a time, so these interleavings cannot happen there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.domain.status import OutboxStatus
from bot.services import gateway, keys
from bot.services.context import Context
from bot.services.directory import import_directory
from bot.services.gateway import Gateway
from bot.store import accounts
from bot.store import audit as audit_store
from bot.store import outbox as outbox_store
from bot.store.tables import AuditEvent, OutboxMessage
from tests.support.concurrency import second_after_first_call
from tests.support.seed import DIRECTORY

BORIS = "U0BORIS01"


@pytest.fixture(autouse=True)
def _postgres_only(ctx: Context) -> None:
    if not ctx.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite's writers take turns")


def events(ctx: Context, action: str, subject: str) -> list[AuditEvent]:
    with ctx.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_id == subject)
        return list(session.exec(query))


def test_a_key_its_owner_revokes_while_a_full_import_departs_them_is_revoked_once(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = keys.create_key(ctx, BORIS)
    without_boris = tmp_path / "directory.csv"
    lines = DIRECTORY.read_text(encoding="utf-8").splitlines()
    without_boris.write_text("\n".join(line for line in lines if BORIS not in line) + "\n", encoding="utf-8")
    imported: list[object] = []
    threads = second_after_first_call(
        monkeypatch,
        ctx.db,
        audit_store,
        "record",
        lambda: imported.append(import_directory(ctx, without_boris, actor="cli:ops", full=True, force=True)),
    )
    keys.revoke_key(ctx, actor=BORIS, key_id=made.key_id)
    threads[0].join(timeout=60)
    assert imported, "the import ran"
    revoked = events(ctx, "key.revoked", str(made.key_id))
    assert [event.actor for event in revoked] == [BORIS]


def test_an_account_reported_deactivated_twice_at_once_is_audited_once(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed: list[bool] = []

    def report() -> None:
        with ctx.uow() as uow:
            changed.append(accounts.record(uow.session, BORIS, deleted=True, now=ctx.clock()))
            uow.commit()

    threads = second_after_first_call(monkeypatch, ctx.db, audit_store, "record", report)
    report()
    threads[0].join(timeout=60)
    assert sorted(changed) == [False, True]
    assert len(events(ctx, "account.deactivated", BORIS)) == 1


def test_a_failed_message_requeued_by_two_operators_at_once_is_requeued_once(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ctx.uow() as uow:
        row = OutboxMessage(
            kind="post", lane=BORIS, address=BORIS, payload={"text": "Your access was approved"},
            status=OutboxStatus.FAILED, next_attempt_at=ctx.clock() - timedelta(minutes=5),
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        row_id = row.id or 0
        uow.commit()
    requeued: list[list[int]] = []

    def requeue_too() -> None:
        requeued.append(outbox_store.requeue_failed(ctx.db, [row_id], actor="cli:b"))

    threads = second_after_first_call(monkeypatch, ctx.db, audit_store, "record", requeue_too)
    requeued.append(outbox_store.requeue_failed(ctx.db, [row_id], actor="cli:a"))
    threads[0].join(timeout=60)
    assert sorted(requeued, key=len) == [[], [row_id]]
    with ctx.read() as session:
        assert session.exec(select(func.count()).where(AuditEvent.action == "outbox.requeued")).one() == 1


def test_the_same_gateway_denial_from_two_replicas_at_once_is_audited_once(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Boris has no grant of mythos-5: two replicas deny him at the same moment."""
    replicas = [Gateway(ctx), Gateway(ctx)]
    answers: list[bool] = []

    def check_on(replica: Gateway) -> None:
        answers.append(replica.check({"user": BORIS, "model": "mythos-5"}).allow)

    threads = second_after_first_call(
        monkeypatch, ctx.db, gateway, "_recently_audited", lambda: check_on(replicas[1])
    )
    check_on(replicas[0])
    threads[0].join(timeout=60)
    assert answers == [False, False]
    with ctx.read() as session:
        assert session.exec(select(func.count()).where(AuditEvent.action == "gateway.denied")).one() == 1
