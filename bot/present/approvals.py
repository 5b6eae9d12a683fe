"""Approval messages: one approver's copy of a step, and who a pending request waits on."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.status import RequestStatus, StepStatus
from bot.present import Presenter
from bot.present.replies import Screen
from bot.present.rows import request_data, step_data
from bot.store import requests as queries
from bot.store.tables import AccessRequest, ApprovalTask, Decision, RequestStep


def approval_message(
    ctx: Presenter,
    request: AccessRequest,
    step: RequestStep,
    decisions: list[Decision],
    task: ApprovalTask,
    closing_note: str | None = None,
) -> Screen:
    """One approver's copy: buttons only while the step waits and this approver has not decided (nor, for
    a delegate, has the delegation ended)."""
    mine = next((d for d in decisions if d.approver_id == task.approver_id), None)
    open_for_me = (
        request.status == RequestStatus.PENDING
        and step.status == StepStatus.PENDING
        and mine is None
        and task.withdrawn_at is None
    )
    return Screen(
        "approval_request",
        {
            "request": request_data(ctx.catalog, request),
            "step": step_data(step, decisions),
            "viewer": task.approver_id,
            "via_admin": task.via_admin,
            "escalated": step.escalated_at is not None,
            # Asked as this approver's delegate; `withdrawn`: the delegation ended before they decided.
            "on_behalf_of": task.on_behalf_of,
            "withdrawn": task.withdrawn_at is not None and mine is None,
            "my_decision": ({"verdict": mine.verdict, "at": mine.decided_at} if mine else None),
            "show_buttons": open_for_me,
            "button_value": f"{request.id}:{step.position}",
            "closing_note": closing_note,
        },
    )


def waiting_on(session: Session, step: RequestStep, decisions: list[Decision]) -> dict[str, object]:
    """A step's template data (see step_data) with `waiting_on`: the user IDs of its approvers."""
    data = step_data(step, decisions)
    data["waiting_on"] = [t.approver_id for t in queries.tasks_at(session, step.request_id, step.position)]
    return data


def waiting_on_data(session: Session, request: AccessRequest) -> dict[str, object] | None:
    """The current step of a pending request and who it waits on, for messages to the requester."""
    if request.status != RequestStatus.PENDING or request.current_step is None:
        return None
    step = queries.step_at(session, request.id or 0, request.current_step)
    if step is None:
        return None
    return waiting_on(session, step, queries.decisions_of(session, request.id or 0))
