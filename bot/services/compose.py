"""Messages composed when they are sent, for outbox rows written in bulk by set-based SQL.

A directive queues one row per affected person with a small payload (`{"compose": ...}`); the sender
asks this module for the message just before delivering it, so that the bulk write stays a single
INSERT … SELECT and each person still reads exactly what changed for them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.domain.directives import RESTRICTING
from bot.services.approvals import approval_message
from bot.services.context import Context
from bot.services.directives import ACTIVATION, LIFTING, STOPPED_BY, directive_data, draft_of
from bot.services.present import model_name
from bot.services.queries import home_data
from bot.store import requests as queries
from bot.store.directives import directive_models
from bot.store.tables import (
    HELD_GRANT_STATUSES,
    AccessGrant,
    AccessRequest,
    ApprovalTask,
    Directive,
    GrantSuspension,
    OutboxMessage,
)


class ComposeError(Exception):
    """The message cannot be composed (its subject is gone); the row fails instead of being retried."""


class Composer:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def __call__(self, row: OutboxMessage) -> dict[str, Any]:
        kind = row.payload.get("compose")
        with self.ctx.read() as session:
            if kind == "directive_notice":
                return self.directive_notice(
                    session, int(row.payload["directive_id"]), row.address, row.payload["phase"]
                )
            if kind == "approval_copy":
                return self.approval_copy(session, row.ref_id or 0)
            if kind == "home":
                # The person's App Home as it stands now: {"view": <Block Kit home view>}.
                return {"view": self.ctx.render("home", **home_data(self.ctx, session, row.address))}
        raise ComposeError(f"unknown message kind {kind!r}")

    def directive_notice(
        self, session: Session, directive_id: int, user_id: str, phase: str
    ) -> dict[str, Any]:
        directive = session.get(Directive, directive_id)
        if directive is None:
            raise ComposeError(f"directive {directive_id} not found")
        draft = draft_of(session, directive)
        models = directive_models(session, directive_id)
        catalog = self.ctx.catalog
        grants: list[dict[str, Any]] = []
        requests: list[dict[str, Any]] = []
        if phase in (ACTIVATION, LIFTING):
            rows = session.exec(
                select(AccessGrant, GrantSuspension)
                .join(GrantSuspension, col(GrantSuspension.grant_id) == col(AccessGrant.id))
                .where(GrantSuspension.directive_id == directive_id, GrantSuspension.user_id == user_id)
                .order_by(col(AccessGrant.id))
            ).all()
            open_elsewhere = _held_by_other_directives(session, [g.id or 0 for g, _ in rows], directive_id)
            grants = [
                {
                    "label": f"G{grant.id}",
                    "model_name": model_name(catalog, grant.model),
                    "status": grant.status,
                    "expires_at": grant.expires_at,
                    "held_elsewhere": sorted(open_elsewhere.get(grant.id or 0, [])),
                }
                for grant, _ in rows
            ]
            requests = [
                {
                    "label": f"R{r.id}",
                    "model_name": model_name(catalog, r.model),
                    "stopped": r.decided_by == STOPPED_BY,
                }
                for r in session.exec(
                    select(AccessRequest)
                    .where(AccessRequest.directive_id == directive_id, AccessRequest.requester_id == user_id)
                    .order_by(col(AccessRequest.id))
                )
            ]
        else:  # warning or withdrawn: what the person holds now
            grants = [
                {
                    "label": f"G{g.id}",
                    "model_name": model_name(catalog, g.model),
                    "status": g.status,
                    "expires_at": g.expires_at,
                    "held_elsewhere": [],
                }
                for g in session.exec(
                    select(AccessGrant)
                    .where(
                        AccessGrant.user_id == user_id,
                        col(AccessGrant.model).in_(models),
                        col(AccessGrant.status).in_(HELD_GRANT_STATUSES),
                    )
                    .order_by(col(AccessGrant.id))
                )
            ]
            requests = [
                {"label": f"R{r.id}", "model_name": model_name(catalog, r.model), "stopped": False}
                for r in queries.requests_of(session, user_id, ["pending"])
                if r.model in models
            ]
        return self.ctx.render(
            "directive_notice",
            directive=directive_data(self.ctx, directive, draft),
            phase=phase,
            restricting=directive.action in RESTRICTING,
            grants=grants,
            requests=requests,
            contact=catalog.policy.contact,
        )

    def approval_copy(self, session: Session, post_id: int) -> dict[str, Any]:
        task = session.exec(select(ApprovalTask).where(ApprovalTask.outbox_id == post_id)).first()
        if task is None:
            raise ComposeError(f"no approval message {post_id}")
        request = session.get(AccessRequest, task.request_id)
        step = queries.step_at(session, task.request_id, task.position)
        if request is None or step is None:
            raise ComposeError(f"request {task.request_id} not found")
        note = None
        if request.directive_id is not None and request.decided_by == STOPPED_BY:
            note = request.outcome_reason
        return approval_message(
            self.ctx, request, step, queries.decisions_of(session, request.id or 0), task, closing_note=note
        )


def _held_by_other_directives(
    session: Session, grant_ids: list[int], directive_id: int
) -> dict[int, list[str]]:
    if not grant_ids:
        return {}
    held: dict[int, list[str]] = {}
    for grant_id, other in session.exec(
        select(GrantSuspension.grant_id, GrantSuspension.directive_id).where(
            col(GrantSuspension.grant_id).in_(grant_ids),
            GrantSuspension.directive_id != directive_id,
            col(GrantSuspension.released_at).is_(None),
        )
    ):
        held.setdefault(grant_id, []).append(f"D{other}")
    return held
