"""Rendering outbox rows when they are sent: the notifier's one door to the templates.

Most rows hold a message as data (`{"template", "data"}`, written by bot/notify/outbox.py from a
Notice or Screen), rendered here just before the Slack call. Others name a message to build from the
state at that moment (`{"compose": ...}`): a directive queues one such row per affected person, so that
the bulk write stays a single INSERT … SELECT and each person reads exactly what changed for them; an
App Home row's view is built from the state when it is published, never from a stale copy.

Reads go through bot/store, message data through bot/present, and rendering through bot/render.py:
this module never changes state and never calls a use case.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.domain.directives import RESTRICTING, STOPPED_BY
from bot.domain.entitlement import describe
from bot.domain.status import DirectivePhase, RequestStatus
from bot.present import Reader
from bot.present.approvals import approval_message
from bot.present.directives import directive_data
from bot.present.replies import Screen, from_stored
from bot.present.rows import model_name
from bot.present.status import home_data
from bot.render import Renderer
from bot.store import holds as hold_state
from bot.store import notice_state
from bot.store import requests as queries
from bot.store.directive_notices import NOTICE_COMPOSER
from bot.store.directives import draft_of, find_directive
from bot.store.tables import AccessRequest, OutboxMessage

# What a `{"compose": ...}` payload may name (a directive's notice is named where its rows are queued).
DIRECTIVE_NOTICE = NOTICE_COMPOSER
APPROVAL_COPY = "approval_copy"
HOME = "home"
ACCESS_CHANGE = "access_change"


class ComposeError(Exception):
    """The message cannot be composed (its subject is gone); the row fails instead of being retried."""


class Composer:
    """Renders an outbox row's message: `{"text", "blocks"}` for a message, `{"view"}` for an App Home.
    Raises ComposeError when the row names something that no longer exists, or an unknown kind;
    database errors propagate (the sender tries again later)."""

    def __init__(self, ctx: Reader, renderer: Renderer):
        self.ctx = ctx
        self.renderer = renderer

    def __call__(self, row: OutboxMessage) -> dict[str, Any]:
        if "template" in row.payload:
            return self.renderer.reply(from_stored(row.payload))
        kind = row.payload.get("compose")
        with self.ctx.read() as session:
            if kind == DIRECTIVE_NOTICE:
                screen = self.directive_notice(
                    session, int(row.payload["directive_id"]), row.address, row.payload["phase"]
                )
                return self.renderer.reply(screen)
            if kind == ACCESS_CHANGE:
                return self.renderer.reply(
                    self.access_change(session, int(row.payload["recheck_id"]), row.address)
                )
            if kind == APPROVAL_COPY:
                return self.renderer.reply(self.approval_copy(session, row.ref_id or 0))
            if kind == HOME:
                # The person's App Home as it stands now: {"view": <Block Kit home view>}.
                home = Screen("home", home_data(self.ctx, session, row.address))
                return {"view": self.renderer.reply(home)}
        raise ComposeError(f"unknown message kind {kind!r}")

    def directive_notice(self, session: Session, directive_id: int, user_id: str, phase: str) -> Screen:
        """The DM telling `user_id` what the directive's `phase` (a DirectivePhase value) did to them: on
        activation and lifting, the grants it suspended or gave back and the requests it stopped; on a
        warning or a withdrawal, what they hold of its models now."""
        directive = find_directive(session, directive_id)
        if directive is None:
            raise ComposeError(f"directive {directive_id} not found")
        draft = draft_of(session, directive)
        catalog = self.ctx.catalog
        grants: list[dict[str, Any]] = []
        requests: list[dict[str, Any]] = []
        if phase in (DirectivePhase.ACTIVATION, DirectivePhase.LIFTING):
            suspended = notice_state.grants_suspended_by(session, directive_id, user_id)
            others = notice_state.held_by_other_directives(
                session, [g.id or 0 for g in suspended], directive_id
            )
            grants = [
                {
                    "label": f"G{grant.id}",
                    "model_name": model_name(catalog, grant.model),
                    "status": grant.status,
                    "expires_at": grant.expires_at,
                    "held_elsewhere": sorted(f"D{other}" for other in others.get(grant.id or 0, [])),
                }
                for grant in suspended
            ]
            requests = [
                {
                    "label": f"R{r.id}",
                    "model_name": model_name(catalog, r.model),
                    "stopped": r.decided_by == STOPPED_BY,
                }
                for r in notice_state.requests_stopped_by(session, directive_id, user_id)
            ]
        else:  # warning or withdrawn: what the person holds now
            models = draft.models
            grants = [
                {
                    "label": f"G{g.id}",
                    "model_name": model_name(catalog, g.model),
                    "status": g.status,
                    "expires_at": g.expires_at,
                    "held_elsewhere": [],
                }
                for g in notice_state.held_grants_for(session, user_id, models)
            ]
            requests = [
                {"label": f"R{r.id}", "model_name": model_name(catalog, r.model), "stopped": False}
                for r in queries.requests_of(session, user_id, [RequestStatus.PENDING])
                if r.model in models
            ]
        return Screen(
            "directive_notice",
            {
                "directive": directive_data(self.ctx, directive, draft),
                "phase": phase,
                "restricting": directive.action in RESTRICTING,
                "grants": grants,
                "requests": requests,
                "contact": catalog.policy.contact,
            },
        )

    def access_change(self, session: Session, recheck_id: int, user_id: str) -> Screen:
        """The DM telling `user_id` which of their grants a re-check suspended (with what holds each now)
        and which it gave back."""
        catalog = self.ctx.catalog
        changed = hold_state.grant_changes(session, recheck_id, user_id)
        if not changed:
            raise ComposeError(f"re-check {recheck_id} changed nothing of {user_id}")
        holds = hold_state.open_holds(session, [grant.id or 0 for grant, _ in changed])
        changes = []
        for grant, change in changed:
            name = model_name(catalog, grant.model)
            changes.append(
                {
                    "label": f"G{grant.id}",
                    "model_name": name,
                    "change": change,
                    "status": grant.status,
                    "expires_at": grant.expires_at,
                    "reasons": [describe(reason, name) for reason in holds[grant.id or 0]],
                }
            )
        return Screen(
            "access_change",
            {
                "changes": changes,
                "contact": catalog.policy.contact,
                "directory_contact": catalog.policy.directory_contact,
            },
        )

    def approval_copy(self, session: Session, post_id: int) -> Screen:
        """The approver's copy of the request whose outbox post is `post_id`, as it stands now; for a
        request a directive stopped, with the directive's reason as the closing note."""
        task = notice_state.task_of_post(session, post_id)
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
