"""Directives as admins look them up: the list, and each one's report of whom it affected and how."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.domain.directives import STOPPED_BY
from bot.domain.recipient import Recipient
from bot.services.context import Context, Refusal
from bot.services.directives.records import directive_record
from bot.store import directive_notices as notices
from bot.store import directive_reports as reported
from bot.store import directives as rows
from bot.store import directory as people
from bot.store.tables import Directive


def list_directives(session: Session, *, include_lifted: bool = True) -> list[dict[str, Any]]:
    """Every issued directive (not drafts), oldest first, in the shape of `directive_record`."""
    directives = rows.issued_directives(session, include_lifted=include_lifted)
    models = rows.models_of(session, [d.id or 0 for d in directives])
    return [directive_record(d, models.get(d.id or 0, [])) for d in directives]


def get_directive(session: Session, directive_id: int) -> Directive:
    """The issued directive with this id; raises Refusal when there is none (drafts count as none)."""
    directive = rows.issued_directive(session, directive_id)
    if directive is None:
        raise Refusal(f"There is no directive D{directive_id}.")
    return directive


def report_summary(ctx: Context, directive_id: int) -> dict[str, Any]:
    """{"directive": directive_record, "summary": counts}: the report in numbers, for Slack, where the
    per-person list is too big. Raises Refusal when there is no such directive."""
    with ctx.read() as session:
        directive = get_directive(session, directive_id)
        models = rows.directive_models(session, directive_id)
        return {
            "directive": directive_record(directive, models),
            "summary": reported.summary(session, directive_id).as_dict(),
        }


def report(ctx: Context, directive_id: int) -> dict[str, Any]:
    """Everyone the directive affected and what happened to them: grants suspended (and reinstated),
    requests stopped or denied, and whether each notice arrived; its channel posts; and the summary.
    The stable JSON shape of `accessbot directive report --json`. Raises Refusal when there is no such
    directive."""
    with ctx.read() as session:
        directive = get_directive(session, directive_id)
        models = rows.directive_models(session, directive_id)
        persons: dict[str, dict[str, Any]] = {}

        def person(user_id: str) -> dict[str, Any]:
            return persons.setdefault(
                user_id, {"slack_user_id": user_id, "grants": [], "requests": [], "notices": []}
            )

        for suspension, grant in reported.suspensions(session, directive_id):
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
        for request in reported.requests_refused(session, directive_id):
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
        for notice in notices.notices(session, directive_id):
            entry = {"phase": notice.phase, "status": notice.status, "error": notice.error}
            if Recipient.of(notice.address).is_person:
                person(notice.address)["notices"].append(entry)
            else:
                channels.append({"channel": notice.address, **entry})
        names = {p.slack_user_id: p.name for p in people.load_people(session, persons).values()}
        for user_id, entry in persons.items():
            entry["name"] = names.get(user_id)
        return {
            "directive": directive_record(directive, models),
            "people": sorted(persons.values(), key=lambda p: p["slack_user_id"]),
            "channels": channels,
            "summary": reported.summary(session, directive_id).as_dict(),
        }
