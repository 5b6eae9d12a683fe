"""`/access`: every subcommand acks within Slack's deadline and calls one service."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.catalog import AVAILABLE
from bot.present.status import catalog_entries, status_data
from bot.services import grants, permissions, requests
from bot.services.context import Outcome
from bot.slack import ids
from bot.slack.command_text import AccessCommand, CommandError, parse_access
from bot.slack.payloads import Command, parse
from bot.slack.responder import ack_ephemeral
from bot.slack.surfaces import Surfaces

# Subcommands that change something: a replay of one is recognised and not acted on again.
ACTS = frozenset({"request", "cancel", "relinquish", "revoke"})

UNREADABLE_COMMAND = (
    "I could not read that command: Slack sent it without the person, trigger or reply address it "
    "always carries. Nothing was done; please try again."
)


def register(app: App, surfaces: Surfaces) -> None:
    ctx, responder = surfaces.ctx, surfaces.responder

    @app.command(ids.ACCESS_COMMAND)
    def access(ack: Ack, command: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        got = parse(Command, command, "/access command")
        if got is None:
            ack_ephemeral(ack, ctx.notice(UNREADABLE_COMMAND, tone="warning"))
            return
        user_id = got.user_id
        try:
            parsed = parse_access(got.text)
        except CommandError as error:
            ack_ephemeral(ack, ctx.notice(str(error), tone="warning"))
            return
        if parsed.action == "form":
            # The modal must open straight away; an empty ack keeps the channel clean.
            ack()
            if not surfaces.open_request_form(client, got.trigger_id, user_id=user_id, tell_by_dm=False):
                responder.respond_later(
                    got.response_url,
                    ctx.notice(
                        "I could not open the request form in time. Try again, or file directly with "
                        "`/access request &lt;model&gt; &lt;why you need it&gt;`.",
                        tone="warning",
                    ),
                    user_id=user_id,
                )
            return
        responder.answer_command(
            ack, context, got.response_url, user_id, lambda: run(parsed, user_id), acts=parsed.action in ACTS
        )

    def run(parsed: AccessCommand, user_id: str) -> dict[str, Any]:
        if parsed.action == "help":
            is_admin = permissions.is_admin(ctx, user_id)
            open_models = sorted(slug for slug, m in ctx.catalog.models.items() if m.status == AVAILABLE)
            example = next(iter(open_models or sorted(ctx.catalog.models)), "model-name")
            return ctx.render("help", is_admin=is_admin, example_model=example)
        if parsed.action == "models":
            with ctx.read() as session:
                return ctx.render("models", models=catalog_entries(ctx, session))
        if parsed.action == "status":
            with ctx.read() as session:
                return ctx.render("status", **status_data(ctx, session, user_id), subject=None)
        if parsed.action == "grants":
            subject = parsed.user_id or ""
            permissions.require_admin(
                ctx, user_id, "look at other people's access", action="grants.view_refused",
                subject_type="person", subject=subject,
            )  # fmt: skip
            with ctx.read() as session:
                return ctx.render("status", **status_data(ctx, session, subject), subject=subject)
        outcome: Outcome
        if parsed.action == "request":
            outcome = requests.submit_request(
                ctx,
                requester_id=user_id,
                model_slug=parsed.model or "",
                duration=parsed.duration,
                justification=parsed.justification,
            )
        elif parsed.action == "cancel":
            outcome = requests.cancel_request(ctx, actor_id=user_id, request_id=parsed.target_id or 0)
        elif parsed.action == "relinquish":
            outcome = grants.relinquish_grant(ctx, holder_id=user_id, grant_id=parsed.target_id or 0)
        elif parsed.action == "revoke":
            outcome = grants.revoke_grant(
                ctx, admin_id=user_id, grant_id=parsed.target_id or 0, reason=parsed.reason
            )
        else:  # parse_access only returns the actions above
            raise AssertionError(parsed.action)
        return outcome.message
