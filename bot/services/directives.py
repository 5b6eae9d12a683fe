"""Directives in motion: preview the impact, issue (now or scheduled), activate, lift, report.

Activation and lifting are set-based: whatever the number of grants, each is a handful of
INSERT … SELECT / UPDATE … WHERE statements in one transaction, together with their audit events and the
outbox rows that will tell people and channels. The notices to people are composed when they are sent
(bot/services/compose.py), from what the directive did to each of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    union,
    update,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.domain.directives import (
    ACTIVE,
    DRAFT,
    EVERYONE,
    LIFTED,
    RESTRICTING,
    SCHEDULED,
    USERS,
    Draft,
    Population,
    parse_population,
)
from bot.notify import outbox
from bot.services import permissions
from bot.services.context import Context, Refusal
from bot.services.present import model_name
from bot.store import audit
from bot.store import directives as scope
from bot.store import directory as people
from bot.store.locks import directive_barrier
from bot.store.tables import (
    AccessGrant,
    AccessRequest,
    ApprovalTask,
    AuditEvent,
    Directive,
    DirectiveCountry,
    DirectiveModel,
    DirectiveUser,
    GrantSuspension,
    HomeTab,
    OutboxMessage,
    Person,
    RequestStep,
)
from bot.store.types import UTCDateTime

# decided_by on requests a directive stopped (requests denied at submission say "policy").
STOPPED_BY = "directive"
MAX_REASON = 3000
ACTIVATION, WARNING, LIFTING = "active", "warning", "lifted"


def group_key(directive_id: int, phase: str) -> str:
    """Outbox group of one broadcast, for progress and reports."""
    return f"directive:{directive_id}" if phase == ACTIVATION else f"directive:{directive_id}:{phase}"


def actor_of(directive_id: int) -> str:
    return f"directive:D{directive_id}"


# -- permissions ---------------------------------------------------------------------------------------


def require_admin(ctx: Context, actor: str, attempted: str) -> None:
    """Only the access-admin role handles directives. People at the command line are trusted: they hold
    the database credentials already. A refused attempt is audited."""
    if actor.startswith("cli:"):
        return
    permissions.require_admin(
        ctx, actor, attempted, action="directive.refused", subject_type="directive", subject=attempted
    )


# -- impact --------------------------------------------------------------------------------------------


@dataclass
class ModelImpact:
    model: str
    name: str
    grants_suspended: int = 0  # active grants that will be suspended
    grants_already_suspended: int = 0  # held suspended by another directive already
    requests_stopped: int = 0
    channels: list[str] = field(default_factory=list)


@dataclass
class Impact:
    models: list[ModelImpact]
    people: int
    channels: list[str]
    action: str
    # People a `users:` population names who are not in the directory: each is told only if Slack
    # knows them (asked before the DM), and otherwise reported as not notified.
    not_in_directory: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "people_to_notify": self.people,
            "not_in_directory": self.not_in_directory,
            "channels_to_notify": self.channels,
            "models": [
                {
                    "model": m.model,
                    "name": m.name,
                    "grants_suspended": m.grants_suspended,
                    "grants_already_suspended": m.grants_already_suspended,
                    "requests_stopped": m.requests_stopped,
                    "channels": m.channels,
                }
                for m in self.models
            ],
        }


def _affected_people(models: tuple[str, ...], population: Population, directive_id: int) -> Any:
    """Everyone a directive speaks to: the people it names, or those in its population who hold a grant
    or have a pending request for one of its models."""
    if population.kind == USERS:
        return select(col(DirectiveUser.user_id).label("user_id")).where(
            DirectiveUser.directive_id == directive_id
        )
    return union(
        select(col(AccessGrant.user_id).label("user_id")).where(scope.held_grants(models, population)),
        select(col(AccessRequest.requester_id).label("user_id")).where(
            scope.pending_requests(models, population)
        ),
    )


def measure(
    ctx: Context, session: Session, models: tuple[str, ...], population: Population, action: str
) -> Impact:
    """What issuing the directive now would do, counted in a few grouped queries."""
    impacts = {
        slug: ModelImpact(
            slug,
            model_name(ctx.catalog, slug),
            channels=list(m.announce_channels) if (m := ctx.catalog.model(slug)) else [],
        )
        for slug in models
    }
    restricting = action in RESTRICTING
    if restricting:
        grouped = session.exec(
            select(AccessGrant.model, AccessGrant.status, func.count())
            .where(scope.held_grants(models, population))
            .group_by(AccessGrant.model, AccessGrant.status)
        )
        for slug, status, count in grouped:
            if status == "active":
                impacts[slug].grants_suspended = count
            else:
                impacts[slug].grants_already_suspended = count
        for slug, count in session.exec(
            select(AccessRequest.model, func.count())
            .where(scope.pending_requests(models, population))
            .group_by(AccessRequest.model)
        ):
            impacts[slug].requests_stopped = count
    outside: list[str] = []
    if population.kind == USERS:
        people_count = len(population.users)
        listed = people.load_people(session, sorted(population.users))
        outside = sorted(population.users - set(listed))
    else:
        affected = _affected_people(models, population, 0).subquery()
        people_count = session.exec(select(func.count()).select_from(affected)).one()
    channels = sorted({c for m in impacts.values() for c in m.channels})
    return Impact([impacts[s] for s in models], int(people_count), channels, action, outside)


# -- issuing -------------------------------------------------------------------------------------------


def _store_directive(session: Session, draft: Draft, actor: str, now: datetime, status: str) -> Directive:
    directive = Directive(
        title=draft.title,
        authority=draft.authority,
        reference=draft.reference,
        notice=draft.notice,
        action=draft.action,
        population=draft.population.text(),
        status=status,
        effective_at=draft.effective_at or now,
        issued_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(directive)
    session.flush()
    directive_id = directive.id or 0
    session.add_all(DirectiveModel(directive_id=directive_id, model=m) for m in draft.models)
    session.add_all(
        DirectiveCountry(directive_id=directive_id, country=c) for c in sorted(draft.population.countries)
    )
    session.add_all(
        DirectiveUser(directive_id=directive_id, user_id=u) for u in sorted(draft.population.users)
    )
    session.flush()
    return directive


def save_draft(ctx: Context, *, actor: str, draft: Draft) -> tuple[int, Impact]:
    """Keep a checked draft (for the Slack confirmation step) and measure its impact."""
    require_admin(ctx, actor, "issue directives")
    with ctx.uow() as uow:
        directive = _store_directive(uow.session, draft, actor, ctx.clock(), DRAFT)
        impact = measure(ctx, uow.session, draft.models, draft.population, draft.action)
        uow.commit()
    return directive.id or 0, impact


def preview(ctx: Context, *, actor: str, draft: Draft) -> dict[str, Any]:
    """Save a checked draft and return the confirmation view: its impact, before anything changes."""
    draft_id, impact = save_draft(ctx, actor=actor, draft=draft)
    with ctx.read() as session:
        stored = session.get(Directive, draft_id)
        assert stored is not None
        data = directive_data(ctx, stored, draft_of(session, stored))
    return ctx.render(
        "directive_confirm", directive=data, impact=impact.as_dict(), scheduled=draft.effective_at is not None
    )


def draft_of(session: Session, directive: Directive) -> Draft:
    return Draft(
        title=directive.title,
        authority=directive.authority,
        reference=directive.reference,
        notice=directive.notice,
        models=tuple(scope.directive_models(session, directive.id or 0)),
        population=parse_population(directive.population),
        action=directive.action,
        effective_at=directive.effective_at if directive.status in (DRAFT, SCHEDULED) else None,
    )


@dataclass(frozen=True)
class Issued:
    directive: Directive
    impact: Impact


def issue(
    ctx: Context,
    *,
    actor: str,
    draft: Draft | None = None,
    draft_id: int | None = None,
    progress_to: str | None = None,
) -> Issued:
    """Issue a directive: in force now (applied in this transaction) or scheduled (people it will
    affect are warned now, and the scheduler applies it on time). `progress_to` is the admin who gets a
    message showing delivery progress, updated in place."""
    require_admin(ctx, actor, "issue directives")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        now = ctx.clock()
        if draft_id is not None:
            directive = session.exec(
                select(Directive).where(Directive.id == draft_id).with_for_update()
            ).first()
            if directive is None or directive.issued_by != actor:
                raise Refusal(f"There is no draft directive D{draft_id} of yours.")
            if directive.status != DRAFT:
                raise Refusal(f"D{draft_id} was already issued ({directive.status}).")
            draft = draft_of(session, directive)
            if draft.effective_at is not None and draft.effective_at <= now:
                draft = replace(draft, effective_at=None)
        elif draft is not None:
            directive = _store_directive(session, draft, actor, now, DRAFT)
        else:
            raise ValueError("issue() needs a draft or a draft_id")
        impact = measure(ctx, session, draft.models, draft.population, draft.action)
        directive.issued_at = now
        directive.status = SCHEDULED if draft.effective_at else ACTIVE
        directive.effective_at = draft.effective_at or now
        directive.updated_at = now
        session.add(directive)
        audit.record(
            session,
            actor=actor,
            action="directive.issued",
            subject_type="directive",
            subject_id=directive.id or 0,
            after=directive_record(directive, draft.models),
            detail={"impact": impact.as_dict()},
        )
        if directive.status == SCHEDULED:
            _broadcast(ctx, session, directive, draft, WARNING, now)
        else:
            _apply(ctx, session, directive, draft, now)
        if progress_to:
            phase = WARNING if directive.status == SCHEDULED else ACTIVATION
            message = _progress_message(ctx, session, directive, draft, phase, impact)
            directive.progress_outbox_id = outbox.post(session, progress_to, message).id
            directive.progress_reported = {
                "group": group_key(directive.id or 0, phase),
                "impact": impact.as_dict(),
            }
        uow.commit()
    return Issued(directive, impact)


def activate_due(ctx: Context, *, limit: int = 10) -> int:
    """Scheduler job: scheduled directives whose time has come take effect."""
    activated = 0
    for _ in range(limit):
        # Look before taking the exclusive barrier: every server runs this job, and the barrier makes
        # approvals wait.
        with ctx.read() as session:
            due = session.exec(
                select(Directive.id).where(
                    Directive.status == SCHEDULED, col(Directive.effective_at) <= ctx.clock()
                )
            ).first()
        if due is None:
            return activated
        with ctx.uow() as uow:
            session = uow.session
            directive_barrier(session, exclusive=True)
            now = ctx.clock()
            directive = session.exec(
                select(Directive)
                .where(Directive.status == SCHEDULED, col(Directive.effective_at) <= now)
                .order_by(col(Directive.effective_at))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if directive is None:
                return activated
            draft = draft_of(session, directive)
            impact = measure(ctx, session, draft.models, draft.population, draft.action)
            directive.status = ACTIVE
            directive.updated_at = now
            audit.record(
                session,
                actor=audit.SYSTEM,
                action="directive.activated",
                subject_type="directive",
                subject_id=directive.id or 0,
                before={"status": SCHEDULED},
                after={"status": ACTIVE},
                detail={"impact": impact.as_dict()},
            )
            _apply(ctx, session, directive, draft, now)
            if directive.progress_outbox_id:
                reported = dict(directive.progress_reported or {})
                reported.update(
                    group=group_key(directive.id or 0, ACTIVATION), impact=impact.as_dict(), counts=None
                )
                directive.progress_reported = reported
            session.add(directive)
            uow.commit()
            activated += 1
    return activated


def _apply(ctx: Context, session: Session, directive: Directive, draft: Draft, now: datetime) -> None:
    """Put a directive into force: one transaction, set-based, whatever the number of grants."""
    directive_id = directive.id or 0
    directive.status = ACTIVE
    directive.activated_at = now
    session.add(directive)
    session.flush()
    # Tell people first: the set of people is measured before their grants and requests change.
    _broadcast(ctx, session, directive, draft, ACTIVATION, now)
    if draft.action not in RESTRICTING:
        return
    actor = actor_of(directive_id)
    grants = scope.held_grants(draft.models, draft.population)
    session.exec(  # type: ignore[call-overload]
        insert(GrantSuspension).from_select(
            ["grant_id", "directive_id", "user_id", "suspended_at"],
            select(
                AccessGrant.id, literal(directive_id, Integer), AccessGrant.user_id, literal(now, UTCDateTime)
            ).where(grants),
        )
    )
    held_here = col(AccessGrant.id).in_(
        select(GrantSuspension.grant_id).where(GrantSuspension.directive_id == directive_id)
    )
    for status in ("active", "suspended"):
        _audit_rows(
            session,
            now,
            actor,
            "grant.suspended",
            "grant",
            AccessGrant.id,
            before={"status": status},
            after={"status": "suspended"},
            detail={"directive_id": directive_id},
            where=and_(AccessGrant.status == status, held_here),
        )
    session.exec(  # type: ignore[call-overload]
        update(AccessGrant)
        .where(AccessGrant.status == "active", held_here)
        .values(status="suspended", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    _stop_requests(session, directive, draft, now)


def _stop_requests(session: Session, directive: Directive, draft: Draft, now: datetime) -> None:
    directive_id = directive.id or 0
    pending = scope.pending_requests(draft.models, draft.population)
    post = aliased(OutboxMessage)
    # Every approver's copy of a stopped request is updated (composed at send time, see compose.py).
    outbox.queue_selected(
        session,
        outbox.UPDATE,
        select(post.lane.label("lane"), post.address.label("address"), post.id.label("ref_id"))
        .select_from(ApprovalTask)
        .join(AccessRequest, col(AccessRequest.id) == col(ApprovalTask.request_id))
        .join(post, col(post.id) == col(ApprovalTask.outbox_id))
        .where(pending, col(ApprovalTask.position) == col(AccessRequest.current_step)),
        {"compose": "approval_copy"},
        now=now,
    )
    reason = f"Stopped by directive D{directive_id} ({directive.reference}): {directive.title}."
    _audit_rows(
        session,
        now,
        actor_of(directive_id),
        "request.denied",
        "request",
        AccessRequest.id,
        before={"status": "pending"},
        after={"status": "denied"},
        detail={"directive_id": directive_id, "reason": reason},
        where=pending,
    )
    session.exec(  # type: ignore[call-overload]
        update(RequestStep)
        .where(
            RequestStep.status == "pending",
            col(RequestStep.request_id).in_(select(AccessRequest.id).where(pending)),
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    session.exec(  # type: ignore[call-overload]
        update(AccessRequest)
        .where(pending)
        .values(
            status="denied",
            outcome_reason=reason,
            directive_id=directive_id,
            decided_by=STOPPED_BY,
            decided_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def _audit_rows(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    subject_type: str,
    id_column: Any,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    detail: dict[str, Any],
    where: Any,
) -> None:
    """One audit event per matching row, written by the database in one statement."""
    session.exec(  # type: ignore[call-overload]
        insert(AuditEvent).from_select(
            ["at", "actor", "action", "subject_type", "subject_id", "before", "after", "detail"],
            select(
                literal(now, UTCDateTime),
                literal(actor, String),
                literal(action, String),
                literal(subject_type, String),
                cast(id_column, String),
                literal(before, JSON),
                literal(after, JSON),
                literal(detail, JSON),
            ).where(where),
        )
    )


def _broadcast(
    ctx: Context, session: Session, directive: Directive, draft: Draft, phase: str, now: datetime
) -> None:
    """Queue the notice for every affected person (composed per person at send time) and for each
    affected model's announcement channels."""
    directive_id = directive.id or 0
    group = group_key(directive_id, phase)
    if phase == LIFTING:
        recipients: Any = union(
            select(col(GrantSuspension.user_id).label("user_id")).where(
                GrantSuspension.directive_id == directive_id
            ),
            select(col(AccessRequest.requester_id).label("user_id")).where(
                AccessRequest.directive_id == directive_id
            ),
        )
    else:
        recipients = _affected_people(draft.models, draft.population, directive_id)
    people = recipients.subquery()
    outbox.queue_selected(
        session,
        outbox.POST,
        select(
            people.c.user_id.label("lane"),
            people.c.user_id.label("address"),
            cast(null(), Integer).label("ref_id"),
            # Someone a `users:` population names who is not in the directory may not exist at all:
            # Slack is asked before the DM, so an unknown id is reported as not notified
            # (user_not_found) rather than as sent. Other populations come from grants and requests.
            and_(
                literal(draft.population.kind == USERS, Boolean),
                ~exists().where(Person.slack_user_id == people.c.user_id),
            ).label("check_account"),
        ),
        {"compose": "directive_notice", "directive_id": directive_id, "phase": phase},
        now=now,
        group_key=group,
    )
    # Their App Home tabs, for those who have one, show the change too (rendered when sent).
    outbox.queue_selected(
        session,
        outbox.HOME,
        select(
            (literal("home:", String) + people.c.user_id).label("lane"),
            people.c.user_id.label("address"),
            cast(null(), Integer).label("ref_id"),
        ).join(HomeTab, col(HomeTab.user_id) == people.c.user_id),
        {"compose": "home"},
        now=now,
        group_key=group,
    )
    data = directive_data(ctx, directive, draft)
    channels = sorted(
        {c for slug in draft.models if (m := ctx.catalog.model(slug)) for c in m.announce_channels}
    )
    for channel in channels:
        message = ctx.render(
            "directive_channel", directive=data, phase=phase, contact=ctx.catalog.policy.contact
        )
        outbox.post(session, channel, message, group_key=group)


# -- lifting -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifted:
    directive: Directive
    reinstated: int
    still_suspended: int


def lift(ctx: Context, *, actor: str, directive_id: int, reason: str | None = None) -> Lifted:
    """Lift a directive: grants it suspended come back unless they expired meanwhile or another
    directive in force still covers them; requests it stopped stay stopped. Everyone it touched is told."""
    require_admin(ctx, actor, "lift directives")
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise Refusal(f"The reason is too long ({len(reason):,} characters); the limit is {MAX_REASON:,}.")
    with ctx.uow() as uow:
        session = uow.session
        directive_barrier(session, exclusive=True)
        directive = session.exec(
            select(Directive).where(Directive.id == directive_id).with_for_update()
        ).first()
        if directive is None or directive.status == DRAFT:
            raise Refusal(f"There is no directive D{directive_id}.")
        if directive.status == LIFTED:
            raise Refusal(f"D{directive_id} was already lifted.")
        now = ctx.clock()
        draft = draft_of(session, directive)
        before = directive.status
        directive.status = LIFTED
        directive.lifted_by = actor
        directive.lifted_at = now
        directive.lift_reason = reason
        directive.updated_at = now
        session.add(directive)
        reinstated = still = 0
        if before == ACTIVE:
            reinstated, still = _release(session, directive_id, now)
        audit.record(
            session,
            actor=actor,
            action="directive.lifted",
            subject_type="directive",
            subject_id=directive_id,
            before={"status": before},
            after={"status": LIFTED},
            detail={"reason": reason, "grants_reinstated": reinstated, "grants_still_suspended": still},
        )
        _broadcast(ctx, session, directive, draft, LIFTING if before == ACTIVE else "withdrawn", now)
        uow.commit()
    return Lifted(directive, reinstated, still)


def _release(session: Session, directive_id: int, now: datetime) -> tuple[int, int]:
    """Close this directive's suspensions; grants no other directive holds, and not yet expired, come back."""
    mine = select(GrantSuspension.grant_id).where(
        GrantSuspension.directive_id == directive_id, col(GrantSuspension.released_at).is_(None)
    )
    other = aliased(GrantSuspension)
    held_elsewhere = col(AccessGrant.id).in_(
        select(other.grant_id).where(other.directive_id != directive_id, col(other.released_at).is_(None))
    )
    suspended_here = and_(AccessGrant.status == "suspended", col(AccessGrant.id).in_(mine))
    comes_back = and_(suspended_here, col(AccessGrant.expires_at) > now, ~held_elsewhere)
    reinstated = session.exec(select(func.count()).where(comes_back)).one()
    still = session.exec(select(func.count()).where(suspended_here, held_elsewhere)).one()
    _audit_rows(
        session,
        now,
        actor_of(directive_id),
        "grant.reinstated",
        "grant",
        AccessGrant.id,
        before={"status": "suspended"},
        after={"status": "active"},
        detail={"directive_id": directive_id},
        where=comes_back,
    )
    session.exec(  # type: ignore[call-overload]
        update(GrantSuspension)
        .where(
            GrantSuspension.directive_id == directive_id,
            col(GrantSuspension.released_at).is_(None),
            col(GrantSuspension.grant_id).in_(select(AccessGrant.id).where(comes_back)),
        )
        .values(reinstated=True)
        .execution_options(synchronize_session=False)
    )
    session.exec(  # type: ignore[call-overload]
        update(AccessGrant)
        .where(comes_back)
        .values(status="active", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.exec(  # type: ignore[call-overload]
        update(GrantSuspension)
        .where(GrantSuspension.directive_id == directive_id, col(GrantSuspension.released_at).is_(None))
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(reinstated), int(still)


# -- progress and reports ------------------------------------------------------------------------------


def delivery_counts(session: Session, group: str) -> dict[str, Any]:
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.group_key == group, OutboxMessage.kind == outbox.POST)
        .group_by(OutboxMessage.status)
    ).all()
    by_status = Counter({status: int(count) for status, count in rows})
    total = sum(by_status.values())
    return {
        "total": total,
        "sent": by_status["sent"],
        "failed": by_status["failed"],
        "pending": by_status["pending"] + by_status["sending"],
    }


def delivery_failures(session: Session, group: str, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxMessage.address, OutboxMessage.last_error)
        .where(
            OutboxMessage.group_key == group,
            OutboxMessage.kind == outbox.POST,
            OutboxMessage.status == "failed",
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    return [{"to": address, "error": error or "unknown"} for address, error in rows]


def _progress_message(
    ctx: Context,
    session: Session,
    directive: Directive,
    draft: Draft,
    phase: str,
    impact: Impact | dict[str, Any],
) -> dict[str, Any]:
    group = group_key(directive.id or 0, phase)
    counts = delivery_counts(session, group)
    return ctx.render(
        "directive_progress",
        directive=directive_data(ctx, directive, draft),
        phase=phase,
        impact=impact.as_dict() if isinstance(impact, Impact) else impact,
        counts=counts,
        failures=delivery_failures(session, group) if counts["failed"] else [],
    )


def refresh_progress(ctx: Context) -> int:
    """Scheduler job: update each issuing admin's progress message when the counts have moved."""
    updated = 0
    with ctx.uow() as uow:
        session = uow.session
        # Unfinished ones only, each claimed by one server at a time.
        directives = session.exec(
            select(Directive)
            .where(col(Directive.progress_outbox_id).is_not(None), Directive.status != DRAFT)
            .with_for_update(skip_locked=True)
        ).all()
        for directive in directives:
            reported = dict(directive.progress_reported or {})
            group = reported.get("group")
            if not group or reported.get("done"):
                continue
            counts = delivery_counts(session, group)
            if counts == reported.get("counts"):
                continue
            phase = WARNING if group.endswith(":warning") else ACTIVATION
            original = session.get(OutboxMessage, directive.progress_outbox_id)
            if original is None:
                continue
            draft = draft_of(session, directive)
            message = _progress_message(ctx, session, directive, draft, phase, reported.get("impact") or {})
            outbox.update(session, original, message)
            reported["counts"] = counts
            reported["done"] = counts["pending"] == 0 and phase == ACTIVATION
            directive.progress_reported = reported
            session.add(directive)
            updated += 1
        uow.commit()
    return updated


def directive_data(ctx: Context, directive: Directive, draft: Draft) -> dict[str, Any]:
    """Template data for a directive. Nothing about any person: channel posts use it."""
    return {
        "id": directive.id,
        "label": f"D{directive.id}",
        "title": directive.title,
        "authority": directive.authority,
        "reference": directive.reference,
        "notice": directive.notice,
        "action": directive.action,
        "restricting": directive.action in RESTRICTING,
        "population": draft.population.describe(),
        "everyone": draft.population.kind == EVERYONE,
        "models": [model_name(ctx.catalog, m) for m in draft.models],
        "models_text": _names(model_name(ctx.catalog, m) for m in draft.models),
        "status": directive.status,
        "effective_at": directive.effective_at,
        "lifted_at": directive.lifted_at,
        "lift_reason": directive.lift_reason,
    }


def _names(names: Any, shown: int = 8) -> str:
    """'A, B and C', or the first few and how many more: lists in messages stay readable."""
    names = list(names)
    if len(names) > shown:
        return f"{', '.join(names[:shown])} and {len(names) - shown} more"
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def directive_record(directive: Directive, models: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The stable JSON shape of a directive for `accessbot directive list --json`."""
    return {
        "id": directive.id,
        "reference": directive.reference,
        "title": directive.title,
        "authority": directive.authority,
        "status": directive.status,
        "models": list(models),
        "population": directive.population,
        "action": directive.action,
        "effective_at": directive.effective_at.isoformat(),
        "issued_by": directive.issued_by,
        "issued_at": directive.issued_at.isoformat() if directive.issued_at else None,
        "activated_at": directive.activated_at.isoformat() if directive.activated_at else None,
        "lifted_by": directive.lifted_by,
        "lifted_at": directive.lifted_at.isoformat() if directive.lifted_at else None,
    }


def list_directives(session: Session, *, include_lifted: bool = True) -> list[dict[str, Any]]:
    query = select(Directive).where(Directive.status != DRAFT).order_by(col(Directive.id))
    if not include_lifted:
        query = query.where(Directive.status != LIFTED)
    directives = list(session.exec(query))
    models: dict[int, list[str]] = {}
    if directives:
        for directive_id, slug in session.exec(
            select(DirectiveModel.directive_id, DirectiveModel.model)
            .where(col(DirectiveModel.directive_id).in_([d.id for d in directives]))
            .order_by(col(DirectiveModel.model))
        ):
            models.setdefault(directive_id, []).append(slug)
    return [directive_record(d, models.get(d.id or 0, [])) for d in directives]


def get_directive(session: Session, directive_id: int) -> Directive:
    directive = session.get(Directive, directive_id)
    if directive is None or directive.status == DRAFT:
        raise Refusal(f"There is no directive D{directive_id}.")
    return directive


def _broadcasts(directive_id: int) -> Any:
    """Posts of every broadcast of this directive (activation, warning, lifting)."""
    return and_(
        or_(
            OutboxMessage.group_key == group_key(directive_id, ACTIVATION),
            col(OutboxMessage.group_key).startswith(f"directive:{directive_id}:"),
        ),
        OutboxMessage.kind == outbox.POST,
    )


def summary(session: Session, directive_id: int) -> dict[str, int]:
    """The report's counts, in a few aggregate queries (for Slack, where the per-person list is too big)."""
    suspensions = session.exec(
        select(func.count(), func.count().filter(col(GrantSuspension.reinstated))).where(
            GrantSuspension.directive_id == directive_id
        )
    ).one()
    stopped = session.exec(
        select(func.count()).where(
            AccessRequest.directive_id == directive_id, AccessRequest.decided_by == STOPPED_BY
        )
    ).one()
    denied = session.exec(
        select(func.count()).where(
            AccessRequest.directive_id == directive_id, AccessRequest.decided_by != STOPPED_BY
        )
    ).one()
    everyone = union(
        select(col(GrantSuspension.user_id).label("user_id")).where(
            GrantSuspension.directive_id == directive_id
        ),
        select(col(AccessRequest.requester_id).label("user_id")).where(
            AccessRequest.directive_id == directive_id
        ),
        select(col(OutboxMessage.address).label("user_id")).where(
            _broadcasts(directive_id), func.substr(OutboxMessage.address, 1, 1).in_(("U", "W"))
        ),
    ).subquery()
    return {
        "people": int(session.exec(select(func.count()).select_from(everyone)).one()),
        "grants_suspended": int(suspensions[0]),
        "grants_reinstated": int(suspensions[1]),
        "requests_stopped": int(stopped),
        "requests_denied": int(denied),
        "notices_failed": int(
            session.exec(
                select(func.count()).where(_broadcasts(directive_id), OutboxMessage.status == "failed")
            ).one()
        ),
    }


def report_summary(ctx: Context, directive_id: int) -> dict[str, Any]:
    with ctx.read() as session:
        directive = get_directive(session, directive_id)
        models = scope.directive_models(session, directive_id)
        return {"directive": directive_record(directive, models), "summary": summary(session, directive_id)}


def report(ctx: Context, directive_id: int) -> dict[str, Any]:
    """Everyone the directive affected and what happened to them: grants suspended (and reinstated),
    requests stopped or denied, and whether each notice arrived."""
    with ctx.read() as session:
        directive = get_directive(session, directive_id)
        models = scope.directive_models(session, directive_id)
        persons: dict[str, dict[str, Any]] = {}

        def person(user_id: str) -> dict[str, Any]:
            return persons.setdefault(
                user_id, {"slack_user_id": user_id, "grants": [], "requests": [], "notices": []}
            )

        for suspension, grant in session.exec(
            select(GrantSuspension, AccessGrant)
            .join(AccessGrant, col(AccessGrant.id) == col(GrantSuspension.grant_id))
            .where(GrantSuspension.directive_id == directive_id)
            .order_by(col(GrantSuspension.grant_id))
        ):
            person(suspension.user_id)["grants"].append(
                {
                    "grant_id": grant.id,
                    "model": grant.model,
                    "suspended_at": suspension.suspended_at.isoformat(),
                    "released_at": suspension.released_at.isoformat() if suspension.released_at else None,
                    "reinstated": suspension.reinstated,
                    "status_now": grant.status,
                }
            )
        for request in session.exec(
            select(AccessRequest)
            .where(AccessRequest.directive_id == directive_id)
            .order_by(col(AccessRequest.id))
        ):
            person(request.requester_id)["requests"].append(
                {
                    "request_id": request.id,
                    "model": request.model,
                    "what": "stopped while pending"
                    if request.decided_by == STOPPED_BY
                    else "denied when asked",
                    "at": request.decided_at.isoformat() if request.decided_at else None,
                }
            )
        channels: list[dict[str, Any]] = []
        for row in session.exec(
            select(OutboxMessage).where(_broadcasts(directive_id)).order_by(col(OutboxMessage.id))
        ):
            phase = (
                row.group_key.rsplit(":", 1)[-1]
                if row.group_key and row.group_key.count(":") > 1
                else ACTIVATION
            )
            entry = {"phase": phase, "status": row.status, "error": row.last_error}
            if row.address[:1] in ("U", "W"):
                person(row.address)["notices"].append(entry)
            else:
                channels.append({"channel": row.address, **entry})
        names = {p.slack_user_id: p.name for p in people.load_people(session, persons).values()}
        for user_id, entry in persons.items():
            entry["name"] = names.get(user_id)
        return {
            "directive": directive_record(directive, models),
            "people": sorted(persons.values(), key=lambda p: p["slack_user_id"]),
            "channels": channels,
            "summary": summary(session, directive_id),
        }
