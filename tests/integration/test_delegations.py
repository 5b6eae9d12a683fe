"""Delegation on a test clock: steps that would ask me ask my delegate too, on my behalf; who qualifies
as a delegate; steps that are never delegated; one decision between an approver and their delegate; the
end of a delegation by date or revocation, and the steps waiting on the delegate updated either way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.services import approvals, delegations, requests
from bot.services.accounts import record_account
from bot.services.context import Context, Refusal
from bot.services.directory import import_directory
from bot.store import requests as queries
from bot.store.tables import AccessRequest, ApprovalTask, AuditEvent, OutboxMessage
from tests.support.history import START, Clock, directory_with

ALICE, MARIA, PETE, OWEN, OLGA, CARLA, NICK = (
    "U0ALICE01", "U0MARIA01", "U0PETE001", "U0OWEN001", "U0OLGA001", "U0CARLA01", "U0NICK001",
)  # fmt: skip
WHY = "Evaluating summarisation quality for the quarterly research report"
WEEK = timedelta(days=7)


def file(ctx: Context, model: str = "lumen-3", who: str = ALICE) -> int:
    filed = requests.submit_request(ctx, requester_id=who, model_slug=model, duration=None, justification=WHY)
    assert filed.subject_id is not None, filed.reply
    return filed.subject_id


def tasks_of(ctx: Context, request_id: int) -> list[ApprovalTask]:
    with ctx.read() as session:
        return list(
            session.exec(
                select(ApprovalTask)
                .where(ApprovalTask.request_id == request_id)
                .order_by(col(ApprovalTask.id))
            )
        )


def status(ctx: Context, request_id: int) -> str:
    with ctx.read() as session:
        request = session.get(AccessRequest, request_id)
    assert request is not None
    return request.status


def decide(ctx: Context, request_id: int, who: str, verdict: str = "approve") -> None:
    with ctx.read() as session:
        request = session.get(AccessRequest, request_id)
    assert request is not None
    approvals.decide(
        ctx, request_id=request_id, position=request.current_step or 0, approver_id=who, verdict=verdict,
        reason=None if verdict == "approve" else "Not now.",
    )  # fmt: skip


def test_my_delegate_is_asked_on_my_behalf_and_decides_for_me(ctx: Context) -> None:
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx)  # lumen-3: Alice's manager, Maria
    asked = {(t.approver_id, t.on_behalf_of) for t in tasks_of(ctx, rid)}
    assert asked == {(MARIA, None), (PETE, MARIA)}
    with ctx.read() as session:
        posts = session.exec(select(OutboxMessage).where(OutboxMessage.address == PETE)).all()
    ask = next(p for p in posts if p.payload.get("template") == "approval_request")
    assert ask.payload["data"]["on_behalf_of"] == MARIA and ask.payload["data"]["show_buttons"] is True
    decide(ctx, rid, PETE)
    assert status(ctx, rid) == "approved"
    with ctx.read() as session:
        recorded = session.exec(select(AuditEvent).where(AuditEvent.action == "decision.recorded")).one()
    assert recorded.actor == PETE and recorded.detail == {"on_behalf_of": MARIA}


def test_steps_already_waiting_ask_a_new_delegate_at_once(ctx: Context) -> None:
    rid = file(ctx)
    made = delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    assert made.steps == 1
    assert (PETE, MARIA) in {(t.approver_id, t.on_behalf_of) for t in tasks_of(ctx, rid)}


def test_an_approver_and_their_delegate_decide_once_between_them(ctx: Context) -> None:
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx, "quorum-7")  # two model owners must approve: Maria is no model owner: not delegated
    assert {t.approver_id for t in tasks_of(ctx, rid)} == {OWEN, OLGA}
    rid = file(ctx)
    decide(ctx, rid, MARIA, "deny")
    with pytest.raises(Refusal, match="already"):
        decide(ctx, rid, PETE)


def test_the_requester_and_earlier_deciders_are_never_asked_as_delegates(ctx: Context) -> None:
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=ALICE, ends_at=START + WEEK, role=None)
    rid = file(ctx)  # Alice asks: her manager's delegate is Alice herself
    assert {t.approver_id for t in tasks_of(ctx, rid)} == {MARIA}
    # Olga holds Owen's model-owner duty too, but she approved step 1 for Maria: step 2 asks her neither
    # in her own right nor for Owen.
    delegations.delegate(ctx, delegator_id=OWEN, delegate_id=OLGA, ends_at=START + WEEK, role="model-owner")
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=OLGA, ends_at=START + WEEK, role="manager")
    frontier = file(ctx, "mythos-5", who="U0UMA0001")  # Uma's manager is Maria too
    decide(ctx, frontier, OLGA)  # step 1, on Maria's behalf
    with ctx.read() as session:
        step2 = queries.tasks_at(session, frontier, 1)
    assert {(t.approver_id, t.on_behalf_of) for t in step2} == {(OWEN, None)}
    with pytest.raises(Refusal, match="one person cannot decide two steps"):
        decide(ctx, frontier, OLGA)


def test_a_role_delegation_covers_that_role_only_and_export_compliance_is_never_delegated(
    ctx: Context,
) -> None:
    delegations.delegate(ctx, delegator_id=OWEN, delegate_id=PETE, ends_at=START + WEEK, role="model-owner")
    delegations.delegate(ctx, delegator_id=CARLA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx, "mythos-5")  # manager, model owner, export compliance
    decide(ctx, rid, MARIA)
    assert (PETE, OWEN) in {(t.approver_id, t.on_behalf_of) for t in tasks_of(ctx, rid)}
    decide(ctx, rid, PETE)  # the model-owner step, for Owen
    with ctx.read() as session:
        step3 = queries.tasks_at(session, rid, 2)
    assert all(t.on_behalf_of is None for t in step3) and PETE not in {t.approver_id for t in step3}


def test_a_revoked_delegation_withdraws_the_delegate_and_updates_their_message(ctx: Context) -> None:
    made = delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx)
    with pytest.raises(Refusal, match="You have no delegation"):
        delegations.end_delegation(ctx, actor=PETE, delegation_id=made.delegation.id or 0)
    delegations.end_delegation(ctx, actor=MARIA, delegation_id=made.delegation.id or 0)
    (pete,) = [t for t in tasks_of(ctx, rid) if t.approver_id == PETE]
    assert pete.withdrawn_at is not None
    with ctx.read() as session:
        update = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "update", OutboxMessage.address == PETE)
        ).one()
    assert update.payload["data"]["withdrawn"] is True and update.payload["data"]["show_buttons"] is False
    with pytest.raises(Refusal, match="delegation from Maria Garcia has ended"):
        decide(ctx, rid, PETE)
    decide(ctx, rid, MARIA)
    assert status(ctx, rid) == "approved"


def test_a_delegation_ends_on_its_date(ctx: Context) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx)
    clock.now = START + WEEK - timedelta(seconds=1)
    assert delegations.close_ended(ctx) == 0
    clock.now = START + WEEK
    with pytest.raises(Refusal, match="has ended"):
        decide(ctx, rid, PETE)  # no longer in effect, even before the job has run
    assert delegations.close_ended(ctx) == 1
    assert delegations.close_ended(ctx) == 0
    assert delegations.delegations_of(ctx, MARIA) == []
    rid2 = file(ctx, "quorum-7")
    assert PETE not in {t.approver_id for t in tasks_of(ctx, rid2)}


@pytest.mark.parametrize(
    ("delegate", "ends", "role", "message"),
    [
        (MARIA, WEEK, None, "cannot delegate to yourself"),
        ("U0NOBODY1", WEEK, None, "not in the AccessBot directory"),
        (PETE, WEEK, "export-compliance", "You do not hold the export-compliance role"),
        (PETE, -timedelta(hours=1), None, "must be in the future"),
        (PETE, timedelta(days=181), None, "at most 180 days"),
    ],
)
def test_delegations_that_cannot_be_made_say_why(
    ctx: Context, delegate: str, ends: timedelta, role: str | None, message: str
) -> None:
    with pytest.raises(Refusal, match=message):
        delegations.delegate(ctx, delegator_id=MARIA, delegate_id=delegate, ends_at=START + ends, role=role)
    assert delegations.delegations_of(ctx, MARIA) == []


def test_an_approvers_authority_decides_once_whoever_uses_it(ctx: Context) -> None:
    # Two delegates of one model owner never make up a two-owner quorum between them.
    delegations.delegate(ctx, delegator_id=OWEN, delegate_id=PETE, ends_at=START + WEEK, role="model-owner")
    delegations.delegate(ctx, delegator_id=OWEN, delegate_id=NICK, ends_at=START + WEEK, role=None)
    rid = file(ctx, "quorum-7")
    decide(ctx, rid, PETE)
    with pytest.raises(Refusal, match="Owen Park's approval of R1 was already given"):
        decide(ctx, rid, NICK)
    with pytest.raises(Refusal, match="was already given on your behalf"):
        decide(ctx, rid, OWEN)
    assert status(ctx, rid) == "pending"
    decide(ctx, rid, OLGA)
    assert status(ctx, rid) == "approved"


def test_an_approver_whose_delegate_decided_a_step_is_not_asked_at_a_later_one(ctx: Context) -> None:
    delegations.delegate(ctx, delegator_id=OWEN, delegate_id=NICK, ends_at=START + WEEK, role=None)
    rid = file(ctx, "mythos-5", who=PETE)  # step 1: Pete's manager, Owen (and Nick for him)
    decide(ctx, rid, NICK)
    with ctx.read() as session:
        step2 = {t.approver_id for t in queries.tasks_at(session, rid, 1)}
    assert step2 == {OLGA}


def test_a_delegate_who_left_cannot_decide(ctx: Context, tmp_path: Path) -> None:
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx)
    import_directory(ctx, directory_with(tmp_path, "left.csv", without=PETE), actor="test", full=True)
    with pytest.raises(Refusal, match="no longer in the directory"):
        decide(ctx, rid, PETE)


def test_delegating_again_reaches_the_steps_a_delegate_was_withdrawn_from(ctx: Context) -> None:
    made = delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    rid = file(ctx)
    delegations.end_delegation(ctx, actor=MARIA, delegation_id=made.delegation.id or 0)
    again = delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role=None)
    assert again.steps == 1
    decide(ctx, rid, PETE)
    assert status(ctx, rid) == "approved"


def test_ending_one_of_two_delegations_keeps_the_delegate_the_other_covers(ctx: Context) -> None:
    short = delegations.delegate(
        ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + WEEK, role="manager"
    )
    delegations.delegate(ctx, delegator_id=MARIA, delegate_id=PETE, ends_at=START + 2 * WEEK, role=None)
    rid = file(ctx)
    delegations.end_delegation(ctx, actor=MARIA, delegation_id=short.delegation.id or 0)
    (pete,) = [t for t in tasks_of(ctx, rid) if t.approver_id == PETE]
    assert pete.withdrawn_at is None
    decide(ctx, rid, PETE)
    assert status(ctx, rid) == "approved"


def test_a_step_only_a_used_authority_could_decide_is_stranded_and_goes_to_the_admins(ctx: Context) -> None:
    delegations.delegate(ctx, delegator_id=OWEN, delegate_id=PETE, ends_at=START + WEEK, role="model-owner")
    rid = file(ctx, "quorum-7")  # two model owners: Owen (and Pete for him) and Olga
    decide(ctx, rid, PETE)  # one of two, on Owen's behalf: Owen can no longer decide
    record_account(ctx, OLGA, deleted=True)  # and Olga's account is gone: the step goes to the admins
    approvals.reroute_stranded(ctx)
    assert "U0ADMIN01" in {t.approver_id for t in tasks_of(ctx, rid)}
