"""Time-driven jobs, with the clock moved forward: stale requests and grants past their end."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import select

from bot.present.replies import from_stored
from bot.render import Renderer
from bot.services import approvals, grants, requests
from bot.services.context import Context, Refusal
from bot.services.directory import import_directory
from bot.store.db import Database
from bot.store.tables import AccessGrant, AccessRequest, AuditEvent, OutboxMessage
from bot.store.types import utcnow
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES, REPO
from tests.support.seed import DIRECTORY

WHY = "Evaluating summarisation quality for the quarterly research report"


def context(db: Database) -> Context:
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"))
    import_directory(ctx, DIRECTORY, actor="test")
    return ctx


def later(ctx: Context, delta: timedelta) -> Context:
    moment = utcnow() + delta
    return replace(ctx, clock=lambda: moment)


def outbox_texts(db: Database, address: str) -> list[str]:
    with db.read() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.address == address)).all()
    renderer = Renderer(REPO / "templates")
    return [renderer.reply(from_stored(row.payload))["text"] for row in rows]


def test_a_request_nobody_decides_expires_after_the_policy_ttl(db: Database) -> None:
    ctx = context(db)
    filed = requests.submit_request(
        ctx, requester_id="U0ALICE01", model_slug="lumen-3", duration=None, justification=WHY
    )
    assert requests.expire_stale_requests(later(ctx, timedelta(days=13))) == 0
    assert requests.expire_stale_requests(later(ctx, timedelta(days=15))) == 1
    with db.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
    assert request is not None and request.status == "expired"
    assert any("expired without a decision" in text for text in outbox_texts(db, "U0ALICE01"))
    # The manager's copy is updated, and their button no longer works.
    assert any("expired" in text for text in outbox_texts(db, "U0MARIA01")[1:])
    refusal = None
    try:
        approvals.decide(
            ctx, request_id=request.id or 0, position=0, approver_id="U0MARIA01", verdict="approve"
        )
    except Refusal as error:
        refusal = error.message
    assert refusal is not None and "already expired" in refusal
    assert requests.expire_stale_requests(later(ctx, timedelta(days=16))) == 0  # once only


def test_grants_expire_at_their_end_and_only_then(db: Database) -> None:
    ctx = context(db)
    filed = requests.submit_request(
        ctx, requester_id="U0ALICE01", model_slug="lumen-3", duration=timedelta(days=2), justification=WHY
    )
    approvals.decide(
        ctx, request_id=filed.subject_id or 0, position=0, approver_id="U0MARIA01", verdict="approve"
    )
    assert grants.expire_due_grants(later(ctx, timedelta(days=1))) == 0
    assert grants.expire_due_grants(later(ctx, timedelta(days=2, minutes=1))) == 1
    with db.read() as session:
        grant = session.exec(select(AccessGrant)).one()
    assert grant.status == "expired" and grant.ended_by == "system"
    assert any("has expired" in text for text in outbox_texts(db, "U0ALICE01"))


def test_a_decision_after_the_deadline_expires_the_request_instead_of_granting(db: Database) -> None:
    ctx = context(db)
    filed = requests.submit_request(
        ctx, requester_id="U0ALICE01", model_slug="lumen-3", duration=None, justification=WHY
    )
    # The sweep has not run yet (no expire_stale_requests call); the manager clicks Approve a day late.
    late = later(ctx, timedelta(days=15))
    for verdict, reason in (("approve", None), ("deny", "too late anyway")):
        refusal = None
        try:
            approvals.decide(
                late,
                request_id=filed.subject_id or 0,
                position=0,
                approver_id="U0MARIA01",
                verdict=verdict,
                reason=reason,
            )
        except Refusal as error:
            refusal = error.message
        assert refusal is not None
        assert ("expired" in refusal and "nothing was approved" in refusal) or "already expired" in refusal
    with db.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
        grants_made = session.exec(select(AccessGrant)).all()
    assert request is not None and request.status == "expired"
    assert grants_made == []
    assert any("expired without a decision" in text for text in outbox_texts(db, "U0ALICE01"))
    # Just before the deadline, the same click still grants.
    again = requests.submit_request(
        ctx, requester_id="U0ALICE01", model_slug="lumen-3", duration=None, justification=WHY
    )
    approvals.decide(
        later(ctx, timedelta(days=13)),
        request_id=again.subject_id or 0,
        position=0,
        approver_id="U0MARIA01",
        verdict="approve",
    )
    with db.read() as session:
        assert len(session.exec(select(AccessGrant)).all()) == 1


def test_deciding_one_request_leaves_the_approvers_other_requests_waiting_on_them(db: Database) -> None:
    ctx = context(db)
    first = requests.submit_request(
        ctx, requester_id="U0ALICE01", model_slug="lumen-3", duration=None, justification=WHY
    )
    requests.submit_request(
        ctx, requester_id="U0BORIS01", model_slug="lumen-3", duration=None, justification=WHY
    )
    approvals.decide(
        ctx, request_id=first.subject_id or 0, position=0, approver_id="U0MARIA01", verdict="approve"
    )
    assert approvals.reroute_stranded(ctx) == 0
    with db.read() as session:
        boris = session.exec(select(AccessRequest).where(AccessRequest.requester_id == "U0BORIS01")).one()
    assert boris.status == "pending"
    assert not any("access admins" in text for text in outbox_texts(db, "U0BORIS01"))


def test_everything_a_transaction_writes_is_stamped_by_the_contexts_clock(db: Database) -> None:
    ctx = context(db)
    moment = utcnow() + timedelta(days=400)
    frozen = replace(ctx, clock=lambda: moment)
    filed = requests.submit_request(
        frozen, requester_id="U0ALICE01", model_slug="lumen-3", duration=None, justification=WHY
    )
    with db.read() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.subject_id == str(filed.subject_id))).all()
        queued = session.exec(select(OutboxMessage)).all()
    assert events and {event.at for event in events} == {moment}
    assert queued and {row.next_attempt_at for row in queued} == {moment}
