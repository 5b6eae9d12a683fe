"""Reminders and escalation of waiting approval steps, on a test clock: when approvers are reminded (in the
thread of the message that asked them), how many times, when the step escalates and to whom, what the
requester is told, and that an escalated approver can decide."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.domain.catalog import Catalog
from bot.present.status import home_data
from bot.services import approvals, requests
from bot.services.accounts import record_account
from bot.services.context import Context
from bot.store import requests as queries
from bot.store.tables import AccessRequest, AuditEvent, OutboxMessage, RequestStep
from tests.support.history import START, Clock

ALICE, MARIA, ADMIN, OWEN, CARLA = "U0ALICE01", "U0MARIA01", "U0ADMIN01", "U0OWEN001", "U0CARLA01"
WHY = "Evaluating summarisation quality for the quarterly research report"
DAY = timedelta(days=1)


def at(ctx: Context, moment: datetime) -> int:
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = moment
    return approvals.remind_and_escalate(ctx)


def outbox_to(ctx: Context, user: str, template: str) -> list[OutboxMessage]:
    with ctx.read() as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.address == user).order_by(col(OutboxMessage.id))
        ).all()
    return [r for r in rows if r.payload.get("template") == template]


def events(ctx: Context, template: str, user: str) -> list[str]:
    return [str(r.payload["data"].get("event")) for r in outbox_to(ctx, user, template)]


def step(ctx: Context, request_id: int, position: int) -> RequestStep:
    with ctx.read() as session:
        found = queries.step_at(session, request_id, position)
    assert found is not None
    return found


def file(ctx: Context, model: str = "lumen-3") -> int:
    filed = requests.submit_request(
        ctx, requester_id=ALICE, model_slug=model, duration=None, justification=WHY
    )
    assert filed.subject_id is not None
    return filed.subject_id


def test_silent_approvers_are_reminded_in_the_thread_then_the_step_escalates(ctx: Context) -> None:
    rid = file(ctx)  # lumen-3: one step, Alice's manager Maria
    (ask,) = outbox_to(ctx, MARIA, "approval_request")
    assert at(ctx, START + DAY - timedelta(seconds=1)) == 0
    assert at(ctx, START + DAY) == 1
    assert at(ctx, START + DAY + timedelta(hours=1)) == 0  # once per reminder
    (reminder,) = outbox_to(ctx, MARIA, "approval_reminder")
    assert reminder.ref_id == ask.id and reminder.kind == "post"  # a reply in the thread of her request
    assert reminder.payload["data"]["number"] == 1 and reminder.payload["data"]["of"] == 2
    assert events(ctx, "request_update", ALICE)[-1] == "reminded"
    assert at(ctx, START + 2 * DAY) == 1
    assert step(ctx, rid, 0).reminders_sent == 2
    # Escalated after 3 days: the access admins are asked too, and told who has not answered.
    assert at(ctx, START + 3 * DAY) == 1
    (escalated,) = outbox_to(ctx, ADMIN, "approval_request")
    assert "Escalated: no answer from Maria Garcia after 3 days." in str(escalated.payload)
    assert events(ctx, "request_update", ALICE)[-1] == "escalated"
    assert step(ctx, rid, 0).escalated_at == START + 3 * DAY
    # Nothing more: two reminders were the most, and it escalates once.
    assert at(ctx, START + 6 * DAY) == 0
    assert len(outbox_to(ctx, MARIA, "approval_reminder")) == 2
    with ctx.read() as session:
        actions = [
            e.action for e in session.exec(select(AuditEvent).where(AuditEvent.subject_id == str(rid)))
        ]
    assert actions.count("step.reminded") == 2 and actions.count("step.escalated") == 1
    # The admin it escalated to can decide.
    approvals.decide(ctx, request_id=rid, position=0, approver_id=ADMIN, verdict="approve")
    with ctx.read() as session:
        request = session.get(AccessRequest, rid)
    assert request is not None and request.status == "approved"


def test_a_job_that_was_down_sends_one_reminder_for_the_ones_it_missed(ctx: Context) -> None:
    rid = file(ctx)
    assert at(ctx, START + 2 * DAY + timedelta(hours=1)) == 1
    assert len(outbox_to(ctx, MARIA, "approval_reminder")) == 1
    assert step(ctx, rid, 0).reminders_sent == 2


def test_approvers_who_decided_are_not_reminded_and_each_step_counts_from_its_start(ctx: Context) -> None:
    rid = file(ctx, "mythos-5")  # frontier: manager, model owner, export compliance
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = START + timedelta(hours=20)
    approvals.decide(ctx, request_id=rid, position=0, approver_id=MARIA, verdict="approve")
    assert at(ctx, START + DAY) == 0  # the model owners' step started 4 hours ago
    assert at(ctx, START + timedelta(hours=44)) == 1
    assert outbox_to(ctx, MARIA, "approval_reminder") == []
    assert len(outbox_to(ctx, OWEN, "approval_reminder")) == 1


def test_timings_come_from_the_model_or_the_policy_and_zero_reminders_means_none(ctx: Context) -> None:
    catalog = ctx.catalog
    lumen = replace(
        catalog.models["lumen-3"],
        approval_reminder_after=timedelta(hours=4),
        approval_reminders=0,
        approval_escalate_after=timedelta(hours=8),
    )
    quick = replace(
        ctx, catalog=Catalog({**catalog.models, "lumen-3": lumen}, catalog.chains, catalog.policy)
    )
    rid = file(quick)
    assert at(quick, START + timedelta(hours=7)) == 0
    assert at(quick, START + timedelta(hours=8)) == 1
    assert outbox_to(quick, MARIA, "approval_reminder") == []
    assert step(quick, rid, 0).escalated_at is not None


def test_the_request_ttl_still_ends_a_waiting_request(ctx: Context) -> None:
    rid = file(ctx)
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = START + 15 * DAY
    assert requests.expire_stale_requests(ctx) == 1
    assert at(ctx, START + 15 * DAY) == 0
    with ctx.read() as session:
        request = session.get(AccessRequest, rid)
    assert request is not None and request.status == "expired"


def with_policy(ctx: Context, **changes: object) -> Context:
    catalog = ctx.catalog
    return replace(ctx, catalog=Catalog(catalog.models, catalog.chains, replace(catalog.policy, **changes)))


def test_steps_that_owe_nothing_more_never_crowd_out_those_that_do(ctx: Context) -> None:
    quick = with_policy(ctx, approval_reminders=0, approval_escalate_after=timedelta(hours=1))
    for who in (ALICE, "U0UMA0001"):
        requests.submit_request(
            quick, requester_id=who, model_slug="lumen-3", duration=None, justification=WHY
        )
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = START + timedelta(hours=2)
    assert approvals.remind_and_escalate(quick, limit=2) == 2  # both escalate, and owe nothing more
    slow = with_policy(ctx, approval_reminders=1, approval_escalate_after=timedelta(days=5))
    ctx.clock.now = START + timedelta(hours=3)
    rid = file(slow, "mythos-5")
    ctx.clock.now = START + timedelta(hours=3) + DAY
    assert approvals.remind_and_escalate(slow, limit=2) == 1
    assert step(slow, rid, 0).reminders_sent == 1


def test_an_escalation_nobody_of_the_role_can_take_goes_to_the_admins(ctx: Context) -> None:
    misspelt = with_policy(ctx, approval_escalate_to="acess-admin")
    rid = file(misspelt)
    assert at(misspelt, START + 3 * DAY) == 1
    (escalated,) = outbox_to(misspelt, ADMIN, "approval_request")
    assert "Escalated: no answer from Maria Garcia after 3 days." in str(escalated.payload)
    assert step(misspelt, rid, 0).escalated_at is not None


def test_an_escalation_to_another_role_is_not_taken_for_a_stranded_step(ctx: Context) -> None:
    compliance = with_policy(ctx, approval_escalate_to="export-compliance")
    rid = file(compliance)
    assert at(compliance, START + 3 * DAY) == 1
    (asked,) = outbox_to(compliance, CARLA, "approval_request")
    assert "It was escalated to you." in str(asked.payload) or asked.payload["data"]["escalated"] is True
    record_account(compliance, MARIA, deleted=True)
    assert approvals.reroute_stranded(compliance) == 0  # Carla can still decide
    approvals.decide(compliance, request_id=rid, position=0, approver_id=CARLA, verdict="approve")
    with ctx.read() as session:
        request = session.get(AccessRequest, rid)
    assert request is not None and request.status == "approved"


def test_app_home_shows_how_long_each_step_has_waited_on_me(ctx: Context) -> None:
    file(ctx)
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = START + DAY + timedelta(hours=5)
    with ctx.read() as session:
        (waiting,) = home_data(ctx, session, MARIA)["approvals"]
    assert waiting["step"]["waiting"] == "1 day"
