"""`/access`: every subcommand acks within Slack's deadline and calls one service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.present.access_reports import access_report_screen
from bot.present.delegations import delegation_list_notice
from bot.present.keys import key_list_notice, new_key_notice
from bot.present.replies import Notice, Person, Reply, Screen
from bot.present.rows import model_name
from bot.present.status import catalog_entries, help_data, status_data
from bot.services import access_reports, break_glass, delegations, grants, keys, permissions, requests
from bot.services.context import Refusal
from bot.services.licence_access import licence_roles
from bot.slack import ids
from bot.slack.command_text import AccessCommand, CommandError, parse_access
from bot.slack.payloads import Command, parse
from bot.slack.responder import Responder
from bot.slack.surfaces import Surfaces

# Subcommands that change something: a replay of one is recognised and not acted on again.
ACTS = frozenset(
    {
        "request",
        "cancel",
        "relinquish",
        "revoke",
        "breakglass",
        "key",
        "key_revoke",
        "delegate",
        "delegate_end",
    }
)

UNREADABLE_COMMAND = (
    "I could not read that command: Slack sent it without the person, trigger or reply address it "
    "always carries. Nothing was done; please try again."
)

FORM_DID_NOT_OPEN = (
    "I could not open the request form in time. Try again, or file directly with "
    "`/access request <model> <why you need it>`."
)


Parsed = TypeVar("Parsed")


class Subcommand(Protocol):
    """A parsed role command's text: `action` is "form" when the text was empty."""

    @property
    def action(self) -> str: ...


Sub = TypeVar("Sub", bound=Subcommand)


def read_command(
    responder: Responder,
    ack: Ack,
    command: dict[str, Any],
    name: str,
    parse_text: Callable[[str], Parsed],
    explain: Callable[[Command, CommandError], Reply] | None = None,
) -> tuple[Command, Parsed] | None:
    """A slash command payload as Bolt passes it (`name` is the command, for the log) and its text parsed
    by `parse_text`, which raises CommandError for text it cannot read. None when either fails: the
    person has already been told why in the ack (for unreadable text, `explain`'s reply when given,
    else the error's own words)."""
    got = parse(Command, command, f"{name} command")
    if got is None:
        responder.ack(ack, Notice(UNREADABLE_COMMAND, tone="warning"))
        return None
    try:
        return got, parse_text(got.text)
    except CommandError as error:
        responder.ack(ack, explain(got, error) if explain else Notice(str(error), tone="warning"))
        return None


class CommandListeners:
    """The `/access` listener and the one service call behind each of its subcommands."""

    def __init__(self, surfaces: Surfaces):
        self.surfaces = surfaces
        self.ctx = surfaces.ctx
        self.responder = surfaces.responder
        self._subcommands: dict[str, Callable[[AccessCommand, str], Reply]] = {
            "help": self.help,
            "models": self.models,
            "status": self.status,
            "grants": self.grants,
            "request": self.request,
            "cancel": self.cancel,
            "relinquish": self.relinquish,
            "revoke": self.revoke,
            "key": self.new_key,
            "key_list": self.key_list,
            "key_revoke": self.key_revoke,
            "report": self.report,
            "delegate": self.delegate,
            "delegate_list": self.delegate_list,
            "delegate_end": self.delegate_end,
            "breakglass": self.breakglass,
        }

    def access(self, ack: Ack, command: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        """`/access [subcommand]`: answered in the ack when the service is quick, else through the outbox.

        `command` is the slash command payload as Bolt passes it; `context` carries the request's arrival
        time and replay key (bot/slack/responder.py)."""
        read = read_command(self.responder, ack, command, "/access", parse_access)
        if read is None:
            return
        got, parsed = read
        user_id = got.user_id
        if parsed.action == "form":
            # The modal must open straight away; an empty ack keeps the channel clean.
            ack()
            if not self.surfaces.open_request_form(client, got.trigger_id, user_id=user_id, tell_by_dm=False):
                self.responder.respond_later(
                    got.response_url, Notice(FORM_DID_NOT_OPEN, tone="warning"), user_id=user_id
                )
            return
        self.responder.answer_command(
            ack,
            context,
            got.response_url,
            user_id,
            lambda: self.answer(parsed, user_id),
            acts=parsed.action in ACTS,
            secret=parsed.action == "key",
        )

    def answer(self, parsed: AccessCommand, user_id: str) -> Reply:
        """The message for a parsed subcommand (not `form`). Raises Refusal when it is not allowed."""
        subcommand = self._subcommands.get(parsed.action)
        if subcommand is None:  # parse_access only returns the actions above
            raise AssertionError(parsed.action)
        return subcommand(parsed, user_id)

    def help(self, _parsed: AccessCommand, user_id: str) -> Reply:
        held = permissions.roles_of(self.ctx, user_id)  # one query on the ack path, not one per role
        data = help_data(
            self.ctx.catalog,
            is_admin=self.ctx.catalog.policy.admin_role in held,
            handles_licences=not held.isdisjoint(licence_roles(self.ctx)),
        )
        return Screen("help", data)

    def models(self, _parsed: AccessCommand, _user_id: str) -> Reply:
        with self.ctx.read() as session:
            return Screen("models", {"models": catalog_entries(self.ctx, session)})

    def status(self, _parsed: AccessCommand, user_id: str) -> Reply:
        with self.ctx.read() as session:
            return Screen("status", {**status_data(self.ctx, session, user_id), "subject": None})

    def grants(self, parsed: AccessCommand, user_id: str) -> Reply:
        subject = parsed.user_id or ""
        permissions.require_admin(
            self.ctx, user_id, "look at other people's access", action="grants.view_refused",
            subject_type="person", subject=subject,
        )  # fmt: skip
        with self.ctx.read() as session:
            return Screen("status", {**status_data(self.ctx, session, subject), "subject": subject})

    def request(self, parsed: AccessCommand, user_id: str) -> Reply:
        return requests.submit_request(
            self.ctx,
            requester_id=user_id,
            model_slug=parsed.model or "",
            duration=parsed.duration,
            justification=parsed.justification,
        ).reply

    def cancel(self, parsed: AccessCommand, user_id: str) -> Reply:
        return requests.cancel_request(self.ctx, actor_id=user_id, request_id=parsed.target_id or 0).reply

    def relinquish(self, parsed: AccessCommand, user_id: str) -> Reply:
        return grants.relinquish_grant(self.ctx, holder_id=user_id, grant_id=parsed.target_id or 0).reply

    def revoke(self, parsed: AccessCommand, user_id: str) -> Reply:
        return grants.revoke_grant(
            self.ctx, admin_id=user_id, grant_id=parsed.target_id or 0, reason=parsed.reason
        ).reply

    def report(self, parsed: AccessCommand, user_id: str) -> Reply:
        model = parsed.model or ""
        permissions.require_admin(
            self.ctx, user_id, "see who could use a model", action="report.access_refused",
            subject_type="model", subject=model[:64],
        )  # fmt: skip
        at = parsed.at or self.ctx.clock()
        return access_report_screen(self.ctx.catalog, access_reports.access_at(self.ctx, model, at))

    def delegate(self, parsed: AccessCommand, user_id: str) -> Reply:
        assert parsed.user_id is not None and parsed.at is not None  # parse_access gives both
        made = delegations.delegate(
            self.ctx, delegator_id=user_id, delegate_id=parsed.user_id, ends_at=parsed.at, role=parsed.role
        )
        waiting = f" {made.steps} request(s) waiting on you now ask them too." if made.steps else ""
        return Notice(
            "Delegated your approvals ({what}) to {delegate} until {until}." + waiting,
            tone="success",
            values={
                "what": parsed.role or "all",
                "delegate": Person(parsed.user_id),
                "until": parsed.at.strftime("%Y-%m-%d %H:%M UTC"),
            },
        )

    def delegate_list(self, _parsed: AccessCommand, user_id: str) -> Reply:
        return delegation_list_notice(user_id, delegations.delegations_of(self.ctx, user_id))

    def delegate_end(self, parsed: AccessCommand, user_id: str) -> Reply:
        mine = [
            d
            for d in delegations.delegations_of(self.ctx, user_id)
            if d.delegator_id == user_id and d.delegate_id == parsed.user_id
        ]
        if not mine:
            raise Refusal("You have no delegation to them in effect. `/access delegate list` lists yours.")
        for row in mine:
            delegations.end_delegation(self.ctx, actor=user_id, delegation_id=row.id or 0)
        return Notice(
            "Ended your delegation to {delegate}: your approval requests no longer go to them.",
            tone="success",
            values={"delegate": Person(parsed.user_id or "")},
        )

    def breakglass(self, parsed: AccessCommand, user_id: str) -> Reply:
        used = break_glass.use_break_glass(
            self.ctx, user_id=user_id, model_slug=parsed.model or "", reason=parsed.justification
        )
        return Notice(
            "Break-glass access to {model} until {until} ({grant}). It is announced, and the access admins "
            "review it: they may revoke it.",
            tone="warning",
            values={
                "model": model_name(self.ctx.catalog, used.grant.model),
                "until": used.grant.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                "grant": f"G{used.grant.id}",
            },
        )

    def new_key(self, _parsed: AccessCommand, user_id: str) -> Reply:
        made = keys.create_key(self.ctx, user_id)
        return new_key_notice(made.key_id, made.key)

    def key_list(self, _parsed: AccessCommand, user_id: str) -> Reply:
        return key_list_notice(keys.list_keys(self.ctx, user_id))

    def key_revoke(self, parsed: AccessCommand, user_id: str) -> Reply:
        key = keys.revoke_key(self.ctx, actor=user_id, key_id=parsed.target_id or 0, reason=parsed.reason)
        whose = "" if key.user_id == user_id else " of {holder}"
        return Notice(
            f"Revoked K{key.id}{whose}: gateways refuse it from now on.",
            tone="success",
            values={"holder": Person(key.user_id)} if whose else {},
        )


def register(app: App, surfaces: Surfaces) -> CommandListeners:
    """Register `/access` on `app`; returns the listeners so that tests can call them directly."""
    listeners = CommandListeners(surfaces)
    app.command(ids.ACCESS_COMMAND)(listeners.access)
    return listeners


class RoleCommandListeners(Generic[Sub]):
    """A slash command that only some roles may use (`/directive`, `/licence`): without text it opens the
    role's form; with a subcommand it answers within Slack's deadline, or later through response_url.

    Subclasses set `slash` and `acting` (the subcommands that change something, so that a replay of one
    is recognised and not acted on again) and give `parse_text`, `allowed`, `form_view` and `answer`.
    """

    slash: ClassVar[str]
    acting: ClassVar[frozenset[str]]

    def __init__(self, surfaces: Surfaces):
        self.surfaces = surfaces
        self.ctx = surfaces.ctx
        self.responder = surfaces.responder

    def parse_text(self, text: str) -> Sub:
        """The command's text read; raises CommandError for text it cannot read."""
        raise NotImplementedError

    def allowed(self, user_id: str) -> None:
        """Raises Refusal (audited) unless `user_id` may open the form."""
        raise NotImplementedError

    def form_view(self) -> dict[str, Any]:
        """The form's Block Kit view, built once the role check has passed."""
        raise NotImplementedError

    def answer(self, parsed: Sub, user_id: str) -> Reply:
        """The message for a parsed subcommand (not "form"). Raises Refusal for people without the role."""
        raise NotImplementedError

    def answer_now(self, parsed: Sub) -> Reply | None:
        """A reply that reads nothing (help), given in the ack itself; None for everything else."""
        return None

    def usable(self, user_id: str) -> None:
        """Raises Refusal (audited) unless `user_id` holds a role that may use the command at all."""
        raise NotImplementedError

    def command(self, ack: Ack, command: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        """The slash command's listener. Text it cannot read is answered with how to write it, but only
        to someone with the role: anyone else is refused (and audited), as a well-formed attempt is, so
        that probing the command tells them nothing more than `help` does."""

        def explain(got: Command, error: CommandError) -> Reply:
            checked = self.responder.wait(
                self.responder.run(lambda: self.usable(got.user_id), context, acts=False), context
            )
            if checked is not None and checked.refusal is not None and checked.reply is not None:
                return checked.reply
            return Notice(str(error), tone="warning")

        read = read_command(self.responder, ack, command, self.slash, self.parse_text, explain)
        if read is None:
            return
        got, parsed = read
        if parsed.action == "form":
            self.open_form(ack, client, got, context)
            return
        now = self.answer_now(parsed)
        if now is not None:
            self.responder.ack(ack, now)
            return
        self.responder.answer_command(
            ack,
            context,
            got.response_url,
            got.user_id,
            lambda: self.answer(parsed, got.user_id),
            acts=parsed.action in self.acting,
        )

    def open_form(self, ack: Ack, client: WebClient, command: Command, context: dict[str, Any]) -> None:
        """Open the form for someone with the role; anyone else is told why not in the ack."""
        self.surfaces.open_gated_form(
            ack,
            client,
            command,
            context,
            allowed=lambda: self.allowed(command.user_id),
            view=self.form_view,
            slash=self.slash,
        )
