"""Break-glass on a test clock: who may, for how long, announced to the channel and the access admins,
reviewed after the fact (keep stays, revoke ends it), and never past the entitlement rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.services import break_glass, grants, requests
from bot.services.context import Context, Refusal
from bot.store.tables import AccessGrant, AccessRequest, AuditEvent, OutboxMessage
from tests.support.history import START, Clock, issue

OWEN, OLGA, ALICE, ADMIN, IAN = "U0OWEN001", "U0OLGA001", "U0ALICE01", "U0ADMIN01", "U0IAN0001"
WHY = "Production incident INC-4411: the summariser is down and customers are waiting"


def posts_to(ctx: Context, address: str) -> list[OutboxMessage]:
    with ctx.read() as session:
        return list(
            session.exec(
                select(OutboxMessage).where(OutboxMessage.address == address).order_by(col(OutboxMessage.id))
            )
        )


def grant_of(ctx: Context, grant_id: int) -> AccessGrant:
    with ctx.read() as session:
        found = session.get(AccessGrant, grant_id)
    assert found is not None
    return found


def test_break_glass_grants_at_once_for_the_maximum_and_is_announced_for_review(ctx: Context) -> None:
    used = break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="mythos-5", reason=WHY)
    assert used.grant.status == "active" and used.grant.expires_at == START + timedelta(hours=4)
    assert used.grant.request_id is None and used.use.review == "pending"
    (announcement,) = posts_to(ctx, "C0AIMODELS")
    assert announcement.payload["data"]["use"]["user"] == OWEN
    (review,) = [p for p in posts_to(ctx, ADMIN) if p.payload.get("template") == "break_glass"]
    assert review.payload["data"]["review"] is True
    with ctx.read() as session:
        created = session.exec(select(AuditEvent).where(AuditEvent.action == "grant.created")).one()
    assert created.detail and created.detail["break_glass"] == used.use.id
    # It still ends on time.
    assert isinstance(ctx.clock, Clock)
    ctx.clock.now = START + timedelta(hours=4)
    assert grants.expire_due_grants(ctx) == 1


def test_a_review_keeps_or_revokes_and_only_another_admin_may_complete_it(ctx: Context) -> None:
    kept = break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="mythos-5", reason=WHY)
    with pytest.raises(Refusal, match="Only people with the access-admin role"):
        break_glass.review(ctx, reviewer=OLGA, use_id=kept.use.id or 0, keep=True)
    break_glass.review(ctx, reviewer=ADMIN, use_id=kept.use.id or 0, keep=True)
    assert break_glass.review(ctx, reviewer=ADMIN, use_id=kept.use.id or 0, keep=True).review == "approved"
    with pytest.raises(Refusal, match="already reviewed"):
        break_glass.review(ctx, reviewer=ADMIN, use_id=kept.use.id or 0, keep=False, reason="Changed my mind")
    assert grant_of(ctx, kept.grant.id or 0).status == "active"
    revoked = break_glass.use_break_glass(ctx, user_id=OLGA, model_slug="mythos-5", reason=WHY)
    with pytest.raises(Refusal, match="Say why"):
        break_glass.review(ctx, reviewer=ADMIN, use_id=revoked.use.id or 0, keep=False)
    break_glass.review(
        ctx, reviewer=ADMIN, use_id=revoked.use.id or 0, keep=False, reason="No incident on record."
    )
    ended = grant_of(ctx, revoked.grant.id or 0)
    assert (
        ended.status == "revoked"
        and ended.end_reason == "Break-glass use reviewed and revoked: No incident on record."
    )
    updates = [p for p in posts_to(ctx, ADMIN) if p.kind == "update"]
    assert updates and updates[-1].payload["data"]["use"]["review"] == "denied"


def test_break_glass_skips_approvals_never_the_entitlement_rule(ctx: Context) -> None:
    with pytest.raises(Refusal, match="Only holders of model-owner"):
        break_glass.use_break_glass(ctx, user_id=ALICE, model_slug="mythos-5", reason=WHY)
    with pytest.raises(Refusal, match="does not allow break-glass"):
        break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="lumen-3", reason=WHY)
    with pytest.raises(Refusal, match="at least 20 characters"):
        break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="mythos-5", reason="urgent")
    # A directive that covers the person refuses them, with its reason.
    issue(ctx, "suspend", "users:U0OWEN001")
    with pytest.raises(Refusal, match=r"Break-glass access cannot be given: .*directive D1"):
        break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="mythos-5", reason=WHY)
    with ctx.read() as session:
        assert session.exec(select(AccessGrant)).all() == []
        refused = session.exec(select(AuditEvent).where(AuditEvent.action == "breakglass.refused")).all()
    assert len(refused) == 1 and refused[0].actor == ALICE


def test_break_glass_supersedes_a_pending_request_and_refuses_a_second_grant(ctx: Context) -> None:
    filed = requests.submit_request(
        ctx, requester_id=OWEN, model_slug="mythos-5", duration=None, justification=WHY
    )
    used = break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="mythos-5", reason=WHY)
    with ctx.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
    assert request is not None and request.status == "cancelled"
    with pytest.raises(Refusal, match=f"You already hold G{used.grant.id}"):
        break_glass.use_break_glass(ctx, user_id=OWEN, model_slug="mythos-5", reason=WHY)
