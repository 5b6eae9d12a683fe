"""The re-check: every held grant and pending request judged again by the entitlement rule.

It runs in the same transaction as every change to the rule's inputs (a directory import, a Slack
account deactivated or reactivated, workflows loaded with other model settings) and on a timer as a
safety net. A directive put in force or lifted applies its own part of the rule set-based
(bot/store/directive_effects.py: the same coverage rule, the same holds), and lifting gives back only
grants no other hold keeps.

A grant the rule now refuses is suspended with its reasons, and one whose last reason went away is
reinstated (unless it has expired); its holder is told either way, and whom to ask. A pending
request the rule now refuses on known facts is stopped with the reason.

The re-check takes the directive barrier exclusively (bot/store/locks.py): a final approval takes it
shared and judges the request by the same rule, so a grant created at the same moment is either seen by
the re-check or created under the facts the re-check saw, never neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.domain import directives as directive_rules
from bot.domain.entitlement import DirectiveRule, Hold, Reason, describe
from bot.domain.licences import utc_day
from bot.domain.status import DirectiveStatus, OutboxKind, RequestStatus
from bot.notify import outbox
from bot.present.rows import model_name
from bot.services.approvals import stop_request
from bot.services.context import Context
from bot.store import audit, recheck_holds
from bot.store import directive_notices as notices
from bot.store import holds as hold_state
from bot.store import recheck as store
from bot.store import requests as queries
from bot.store.directives import in_force
from bot.store.entitlement import RuleInputs
from bot.store.locks import directive_barrier

# `decided_by` of a pending request the re-check stopped.
STOPPED_BY = "recheck"
ACCESS_CHANGE = "access_change"  # the composer of the holder's notice (bot/notify/compose.py)


@dataclass(frozen=True)
class RecheckResult:
    """What one re-check changed: holds opened and released, grants suspended and reinstated, pending
    requests stopped. `recheck_id` is None when it changed nothing (and left no record)."""

    recheck_id: int | None
    holds_opened: int = 0
    holds_released: int = 0
    suspended: int = 0
    reinstated: int = 0
    requests_stopped: int = 0

    @property
    def changes(self) -> int:
        return (
            self.holds_opened + self.holds_released + self.suspended + self.reinstated + self.requests_stopped
        )


def rule_inputs(ctx: Context, session: Session) -> RuleInputs:
    """The catalog's settings and the directives in force and applied, as the re-check reads them."""
    applied = [
        DirectiveRule(directive.id or 0, rule.models, rule.population, rule.action)
        for directive, rule in in_force(session, ctx.clock())
        if directive.status == DirectiveStatus.ACTIVE
    ]
    return RuleInputs.of(ctx.catalog, applied, utc_day(ctx.clock()))


def recheck(
    ctx: Context,
    session: Session,
    *,
    trigger: str,
    actor: str = audit.SYSTEM,
    effective_at: datetime | None = None,
) -> RecheckResult:
    """Re-check everything within the caller's transaction, which must hold the directive barrier
    exclusively (`directive_barrier(session, exclusive=True)`). `trigger` says what changed (recorded
    with the run); `actor` is who changed it, for the audit trail; `effective_at`, when the change took
    effect before now (a licence lapsed at midnight), is recorded with the grants it suspends."""
    now = ctx.clock()
    inputs = rule_inputs(ctx, session)
    recheck_id = store.open_recheck(session, trigger, actor, now)
    holds = recheck_holds.update_holds(session, inputs, now, recheck_id, actor)
    suspended, reinstated = store.follow_holds(session, now, recheck_id, actor, effective_at)
    store.link_licences(session, inputs, now)
    stopped = _stop_refused_requests(ctx, session, inputs, recheck_id)
    result = RecheckResult(recheck_id, holds.opened, holds.released, suspended, reinstated, stopped)
    if suspended or reinstated:
        people = hold_state.changed_people(recheck_id)
        outbox.queue_selected(
            session,
            OutboxKind.POST,
            notices.notice_rows(people, ask_slack_about_strangers=False),
            {"compose": ACCESS_CHANGE, "recheck_id": recheck_id},
            now=now,
        )
        outbox.queue_selected(
            session, OutboxKind.HOME, notices.home_rows(people), {"compose": "home"}, now=now
        )
    if not result.changes:
        store.forget_recheck(session, recheck_id)
        return RecheckResult(None)
    return result


def run_recheck(ctx: Context, *, trigger: str = "timer", actor: str = audit.SYSTEM) -> int:
    """Re-check in a transaction of its own (the timer's safety net, and after a change made outside
    any transaction of ours); commits only when something changed. Returns how many changes."""
    with ctx.uow() as uow:
        directive_barrier(uow.session, exclusive=True)
        result = recheck(ctx, uow.session, trigger=trigger, actor=actor)
        if result.changes:
            uow.commit()
    return result.changes


def request_refusal(reason: Reason, model: str) -> str:
    """Why a pending request was stopped, in the requester's words."""
    return f"Access cannot be granted: {describe(reason, model)}."


def _stop_refused_requests(ctx: Context, session: Session, inputs: RuleInputs, recheck_id: int) -> int:
    """Stop each pending request the rule refuses on known facts: cancelled when the requester left the
    directory, denied with the reason otherwise; approvers' copies say so."""
    stopped = 0
    licence_directives = {
        d.directive_id for d in inputs.directives if d.action == directive_rules.REQUIRE_LICENCE
    }
    for request_id, hold, directive_id in store.refused_requests(session, inputs):
        request = queries.lock_request(session, request_id)
        if request is None or request.status != RequestStatus.PENDING:
            continue
        stopped += 1
        licence = directive_id in licence_directives
        reason = request_refusal(
            Reason(hold, directive_id, licence=licence), model_name(ctx.catalog, request.model)
        )
        gone = hold in (Hold.DEPARTED, Hold.NOT_IN_DIRECTORY)
        request.directive_id = directive_id
        store.record_request_change(session, recheck_id, request, "cancelled" if gone else "stopped")
        stop_request(
            ctx,
            session,
            request,
            RequestStatus.CANCELLED if gone else RequestStatus.DENIED,
            reason=reason,
            # A directive's stop reads as the directive's in its reports and notices.
            actor=directive_rules.STOPPED_BY if hold == Hold.DIRECTIVE else STOPPED_BY,
            closing_note=reason,
            notify_requester=not gone,
        )
    return stopped
