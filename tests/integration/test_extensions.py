"""Expiry warnings and Extend on a test clock: when holders are warned, what an extension does to the
grant on approval, and every reason one is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.domain.catalog import Catalog
from bot.services import extensions, grants, requests
from bot.services.context import Context, Refusal
from bot.store.tables import AccessGrant, AccessRequest, AuditEvent, OutboxMessage
from tests.support.history import Clock, approve_fully, issue

ALICE, BORIS, UMA, MARIA, ADMIN = "U0ALICE01", "U0BORIS01", "U0UMA0001", "U0MARIA01", "U0ADMIN01"
WHY = "Evaluating summarisation quality for the quarterly research report"
DAY = timedelta(days=1)


def clock_of(ctx: Context) -> Clock:
    assert isinstance(ctx.clock, Clock)
    return ctx.clock


def grant(ctx: Context, user: str, model: str, duration: timedelta) -> AccessGrant:
    filed = requests.submit_request(
        ctx, requester_id=user, model_slug=model, duration=duration, justification=WHY
    )
    approve_fully(ctx, filed.subject_id or 0)
    with ctx.read() as session:
        return session.exec(select(AccessGrant).where(AccessGrant.request_id == filed.subject_id)).one()


def fetch(ctx: Context, grant_id: int) -> AccessGrant:
    with ctx.read() as session:
        found = session.get(AccessGrant, grant_id)
    assert found is not None
    return found


def warnings_to(ctx: Context, user: str) -> list[dict[str, object]]:
    with ctx.read() as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.address == user).order_by(col(OutboxMessage.id))
        ).all()
    return [r.payload["data"] for r in rows if r.payload.get("template") == "expiry_warning"]


def test_holders_are_warned_at_each_lead_time_once(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=10))  # lumen-3: standard chain, warnings 3d and 1d
    clock.now = g.expires_at - 3 * DAY - timedelta(seconds=1)
    assert extensions.warn_expiring(ctx) == 0
    clock.now = g.expires_at - 3 * DAY
    assert extensions.warn_expiring(ctx) == 1
    assert extensions.warn_expiring(ctx) == 0  # once: a second replica or run finds nothing due
    (first,) = warnings_to(ctx, UMA)
    assert first["lead"] == "3 days" and first["blocker"] is None
    clock.now = g.expires_at - DAY - timedelta(seconds=1)
    assert extensions.warn_expiring(ctx) == 0
    clock.now = g.expires_at - DAY
    assert extensions.warn_expiring(ctx) == 1
    assert [w["lead"] for w in warnings_to(ctx, UMA)] == ["3 days", "1 day"]
    clock.now = g.expires_at
    assert extensions.warn_expiring(ctx) == 0  # ended: nothing more


def test_a_missed_warning_is_not_sent_late_and_short_grants_get_only_warnings_that_fit(
    ctx: Context,
) -> None:
    clock = clock_of(ctx)
    long = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    clock.now = long.expires_at - 2 * DAY - timedelta(hours=1)
    short = grant(ctx, ALICE, "lumen-3", timedelta(days=2))  # no 3-day warning for a 2-day grant
    clock.now = long.expires_at - timedelta(hours=12)  # the bot was down through the 3-day and 1-day marks
    assert extensions.warn_expiring(ctx) == 2
    # One warning each, the 1-day one, saying the time actually left.
    assert [w["lead"] for w in warnings_to(ctx, UMA)] == ["12 hours"]
    assert [w["lead"] for w in warnings_to(ctx, ALICE)] == ["11 hours"]
    assert extensions.warn_expiring(ctx) == 0
    assert short.expires_at - short.starts_at == 2 * DAY


def test_an_approved_extension_moves_the_same_grant_without_a_gap_and_warnings_restart(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    clock.now = g.expires_at - DAY
    assert extensions.warn_expiring(ctx) == 1
    filed = extensions.submit_extension(
        ctx, holder_id=UMA, grant_id=g.id or 0, duration=7 * DAY, justification=WHY
    )
    assert filed.status == "pending"
    # Asked again while it waits: refused, saying which request waits.
    with pytest.raises(Refusal, match=f"R{filed.subject_id} for Lumen 3 is already waiting"):
        extensions.submit_extension(ctx, holder_id=UMA, grant_id=g.id or 0, duration=DAY, justification=WHY)
    clock.now += timedelta(hours=2)
    approve_fully(ctx, filed.subject_id or 0)
    extended = fetch(ctx, g.id or 0)
    assert extended.expires_at == g.expires_at + 7 * DAY and extended.status == "active"
    with ctx.read() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "grant.extended")).one()
    assert event.subject_id == str(g.id) and event.after == {"expires_at": extended.expires_at.isoformat()}
    # Its warnings start again for the new end.
    clock.now = extended.expires_at - 3 * DAY
    assert extensions.warn_expiring(ctx) == 1
    assert [w["lead"] for w in warnings_to(ctx, UMA)] == ["1 day", "3 days"]
    # The grant still ends, at its new end.
    clock.now = extended.expires_at
    assert grants.expire_due_grants(ctx) == 1


def test_an_extension_never_runs_past_the_model_maximum_from_its_approval(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=80))  # lumen-3: at most 90 days
    clock.now = g.expires_at - 2 * DAY
    filed = extensions.submit_extension(
        ctx, holder_id=UMA, grant_id=g.id or 0, duration=timedelta(days=90), justification=WHY
    )
    approve_fully(ctx, filed.subject_id or 0)
    assert fetch(ctx, g.id or 0).expires_at == clock.now + timedelta(days=90)


def test_what_cannot_be_extended_says_why(ctx: Context, tmp_path: Path) -> None:
    clock = clock_of(ctx)
    boris = grant(ctx, BORIS, "mythos-5", timedelta(days=7))
    uma = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    with pytest.raises(Refusal, match="You hold no grant"):
        extensions.extension_form(ctx, ALICE, uma.id or 0)  # not hers
    with pytest.raises(Refusal, match="You hold no grant"):
        extensions.submit_extension(
            ctx, holder_id=ALICE, grant_id=uma.id or 0, duration=DAY, justification=WHY
        )
    form = extensions.extension_form(ctx, UMA, uma.id or 0)
    assert form.template == "extend_modal" and form.data["grant"]["label"] == f"G{uma.id}"
    # Suspended by a directive: the warning says so instead of offering Extend.
    issue(ctx, "suspend", "non-us-persons")
    clock.now = boris.expires_at - DAY
    extensions.warn_expiring(ctx)
    (warning,) = warnings_to(ctx, BORIS)
    assert "suspended (held by directive:D1)" in str(warning["blocker"])
    with pytest.raises(Refusal, match="cannot be extended while suspended"):
        extensions.extension_form(ctx, BORIS, boris.id or 0)
    # A model suspended in models.yaml is not extended either.
    catalog = ctx.catalog
    lumen = replace(catalog.models["lumen-3"], status="suspended")
    suspended = replace(
        ctx, catalog=Catalog({**catalog.models, "lumen-3": lumen}, catalog.chains, catalog.policy)
    )
    with pytest.raises(Refusal, match="Lumen 3 is suspended"):
        extensions.extension_form(suspended, UMA, uma.id or 0)
    # Already at the longest the model allows.
    clock.now = uma.starts_at
    long = grant(ctx, ALICE, "lumen-3", timedelta(days=90))
    with pytest.raises(Refusal, match="already runs to the longest Lumen 3 allows"):
        extensions.extension_form(ctx, ALICE, long.id or 0)
    # Ended.
    clock.now = uma.expires_at
    with pytest.raises(Refusal, match="has ended"):
        extensions.extension_form(ctx, UMA, uma.id or 0)


def test_an_extension_approved_after_the_grant_ended_is_denied_not_backdated(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    clock.now = g.expires_at - DAY
    filed = extensions.submit_extension(
        ctx, holder_id=UMA, grant_id=g.id or 0, duration=7 * DAY, justification=WHY
    )
    clock.now = g.expires_at + timedelta(minutes=5)  # the expiry job has not run yet
    approve_fully(ctx, filed.subject_id or 0)
    with ctx.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
    assert request is not None and request.status == "denied"
    assert request.outcome_reason == f"G{g.id} ended before the extension was approved."
    assert fetch(ctx, g.id or 0).expires_at == g.expires_at


def test_the_policy_is_checked_again_for_an_extension(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    clock.now = g.expires_at - DAY
    with pytest.raises(Refusal, match="at most 90 days"):
        extensions.submit_extension(
            ctx, holder_id=UMA, grant_id=g.id or 0, duration=timedelta(days=91), justification=WHY
        )
    with pytest.raises(Refusal, match="characters"):
        extensions.submit_extension(
            ctx, holder_id=UMA, grant_id=g.id or 0, duration=DAY, justification="more"
        )
    # A directive issued while the extension waits stops it like any pending request.
    filed = extensions.submit_extension(
        ctx, holder_id=UMA, grant_id=g.id or 0, duration=DAY, justification=WHY
    )
    assert filed.status == "pending"
    with ctx.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
    assert request is not None and request.extends_grant_id == g.id


def test_a_lead_time_added_later_is_not_sent_after_a_shorter_warning(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    clock.now = g.expires_at - 3 * DAY
    assert extensions.warn_expiring(ctx) == 1
    policy = replace(ctx.catalog.policy, expiry_warnings=(7 * DAY, 3 * DAY, DAY))
    more = replace(ctx, catalog=Catalog(ctx.catalog.models, ctx.catalog.chains, policy))
    clock.now = g.expires_at - 2 * DAY
    assert extensions.warn_expiring(more) == 0  # the 7-day warning would come after the 3-day one
    clock.now = g.expires_at - DAY
    assert extensions.warn_expiring(more) == 1
    assert [w["lead"] for w in warnings_to(ctx, UMA)] == ["3 days", "1 day"]


def test_ending_a_grant_cancels_its_waiting_extension(ctx: Context) -> None:
    clock = clock_of(ctx)
    g = grant(ctx, UMA, "lumen-3", timedelta(days=10))
    clock.now = g.expires_at - DAY
    filed = extensions.submit_extension(
        ctx, holder_id=UMA, grant_id=g.id or 0, duration=DAY, justification=WHY
    )
    clock.now = g.expires_at
    assert grants.expire_due_grants(ctx) == 1
    with ctx.read() as session:
        request = session.get(AccessRequest, filed.subject_id)
    assert request is not None and request.status == "cancelled"
    assert request.outcome_reason == f"G{g.id} expired, so there is nothing to extend."
    # Nothing waits any more: the holder may ask for the model afresh.
    again = requests.submit_request(
        ctx, requester_id=UMA, model_slug="lumen-3", duration=None, justification=WHY
    )
    assert again.status == "pending"


def test_a_grant_given_up_or_revoked_says_which_when_it_cancels_its_extension(ctx: Context) -> None:
    """The approvers' copies and the request's reason say what ended the grant: its holder giving it up
    is not a revocation."""
    for end, ended in (("relinquish", "was given up by its holder"), ("revoke", "was revoked")):
        g = grant(ctx, UMA, "lumen-3", timedelta(days=10))
        filed = extensions.submit_extension(
            ctx, holder_id=UMA, grant_id=g.id or 0, duration=DAY, justification=WHY
        )
        if end == "relinquish":
            grants.relinquish_grant(ctx, holder_id=UMA, grant_id=g.id or 0)
        else:
            grants.revoke_grant(ctx, admin_id=ADMIN, grant_id=g.id or 0, reason="Audit finding 7")
        with ctx.read() as session:
            request = session.get(AccessRequest, filed.subject_id)
        assert request is not None and request.status == "cancelled"
        assert request.outcome_reason == f"G{g.id} {ended}, so there is nothing to extend."
