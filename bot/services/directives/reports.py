"""Directives as admins look them up: the list, and each one's report of whom it affected and how."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session

from bot.domain.directives import STOPPED_BY
from bot.domain.recipient import Recipient
from bot.domain.status import DirectivePhase, GrantStatus, OutboxStatus
from bot.present.directive_records import (
    DirectiveOverview,
    DirectiveRecord,
    DirectiveReport,
    ReportChannel,
    ReportedDirective,
    ReportGrant,
    ReportNotice,
    ReportPerson,
    ReportRequest,
    ReportSummary,
)
from bot.services.context import Context, Refusal
from bot.store import directive_notices as notices
from bot.store import directive_reports as reported
from bot.store import directives as rows
from bot.store import directory as people
from bot.store.holds import held_by
from bot.store.tables import Directive


def list_directives(session: Session, *, include_lifted: bool = True) -> list[DirectiveRecord]:
    """Every issued directive (not drafts), oldest first."""
    directives = rows.issued_directives(session, include_lifted=include_lifted)
    models = rows.models_of(session, [d.id or 0 for d in directives])
    return [DirectiveRecord.of(d, models.get(d.id or 0, [])) for d in directives]


def get_directive(session: Session, directive_id: int) -> Directive:
    """The issued directive with this id; raises Refusal when there is none (drafts count as none)."""
    directive = rows.issued_directive(session, directive_id)
    if directive is None:
        raise Refusal(f"There is no directive D{directive_id}.")
    return directive


def report_summary(ctx: Context, directive_id: int) -> DirectiveOverview:
    """The report in numbers, for Slack, where the per-person list is too big. Raises Refusal when
    there is no such directive."""
    with ctx.read() as session:
        directive = get_directive(session, directive_id)
        models = rows.directive_models(session, directive_id)
        return DirectiveOverview(
            directive=DirectiveRecord.of(directive, models),
            summary=ReportSummary.of(reported.summary(session, directive_id)),
        )


def report(ctx: Context, directive_id: int) -> DirectiveReport:
    """Everyone the directive affected and what happened to them: grants suspended (and reinstated),
    requests stopped or denied, and whether each notice arrived; its channel posts; and the summary
    (`accessbot directive report --json`). Raises Refusal when there is no such directive."""
    with ctx.read() as session:
        directive = get_directive(session, directive_id)
        models = rows.directive_models(session, directive_id)
        grants: dict[str, list[ReportGrant]] = defaultdict(list)
        requests: dict[str, list[ReportRequest]] = defaultdict(list)
        told: dict[str, list[ReportNotice]] = defaultdict(list)
        suspended = reported.suspensions(session, directive_id)
        holds = held_by(session, [grant.id or 0 for _, grant in suspended])
        for suspension, grant in suspended:
            grants[suspension.user_id].append(
                ReportGrant(
                    grant_id=grant.id or 0,
                    model=grant.model,
                    suspended_at=suspension.suspended_at,
                    released_at=suspension.released_at,
                    reinstated=suspension.reinstated,
                    status_now=GrantStatus(grant.status),
                    held_by=holds.get(grant.id or 0, []),
                )
            )
        for request in reported.requests_refused(session, directive_id):
            requests[request.requester_id].append(
                ReportRequest(
                    request_id=request.id or 0,
                    model=request.model,
                    what="stopped while pending" if request.decided_by == STOPPED_BY else "denied when asked",
                    at=request.decided_at,
                )
            )
        channels: list[ReportChannel] = []
        for notice in notices.notices(session, directive_id):
            post = ReportNotice(
                phase=DirectivePhase(notice.phase),
                status=OutboxStatus(notice.status),
                error=notice.error,
                queued_at=notice.queued_at,
                sent_at=notice.sent_at,
            )
            if Recipient.of(notice.address).is_person:
                told[notice.address].append(post)
            else:
                channels.append(ReportChannel(channel=notice.address, **post.model_dump()))
        affected = sorted({*grants, *requests, *told})
        names = {p.slack_user_id: p.name for p in people.load_people(session, affected).values()}
        return DirectiveReport(
            directive=ReportedDirective.of(directive, models),
            people=[
                ReportPerson(
                    slack_user_id=user_id,
                    grants=grants.get(user_id, []),
                    requests=requests.get(user_id, []),
                    notices=told.get(user_id, []),
                    name=names.get(user_id),
                )
                for user_id in affected
            ],
            channels=channels,
            summary=ReportSummary.of(reported.summary(session, directive_id)),
        )
