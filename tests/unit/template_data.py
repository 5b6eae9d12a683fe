"""Data for every template in templates/, produced by the real services.

A `World` is a small AccessBot installation: a catalog, a directory and a SQLite database. Its flows call
the same service functions the Slack listeners call (submit, decide, cancel, expire, revoke, the status
and App Home queries...) and record every template the services render, with the exact data they pass.
Where the data is put together inside a listener (help, models, status, home, the deny form), the flow
repeats that listener's one-line call and says where it comes from.

Directives are issued, activated, lifted and reported on the same way (bot/services/directives.py): the
notices to people are composed by bot/notify/compose.py from the outbox rows a directive queued, as the
sender does just before delivering them, and delivery results are written to those rows as the sender
writes them.

A `Profile` decides what people and admins typed (justifications, reasons, model, provider and step
names, directive titles, authorities, references, notices and lift reasons) and how long the lists are,
so the same flows give realistic, worst-case and injection samples.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel, col, func, select

from bot.config import PROJECT_ROOT
from bot.domain.catalog import BreakGlassRule, Catalog, Chain, Model, Policy, StepRule
from bot.domain.directives import NOTICE, SUSPEND, Draft, check_draft
from bot.domain.licences import LicenceKind, utc_day
from bot.domain.people import Person
from bot.domain.status import DirectivePhase, OutboxKind
from bot.notify.compose import Composer
from bot.present.access_reports import access_report_screen
from bot.present.licences import licence_form_data, licence_list_data, recorded_notice, revoked_notice
from bot.present.replies import Reply
from bot.present.status import catalog_entries, help_data, home_data, status_data
from bot.render import Renderer
from bot.services import (
    access_reports,
    approvals,
    audit_chain,
    break_glass,
    delegations,
    directives,
    extensions,
    grants,
    recheck,
    requests,
)
from bot.services.context import Context, Outcome
from bot.services.directives import directive_data, draft_of, group_key
from bot.services.licences import record_licence, revoke_licence
from bot.slack.responder import Responder
from bot.slack.surfaces import Surfaces
from bot.store import directory
from bot.store import requests as queries
from bot.store.db import Database
from bot.store.licences import find_licence, list_licences
from bot.store.tables import AccessGrant, AccessRequest, Directive, GrantSuspension, OutboxMessage

TEMPLATES_DIR = PROJECT_ROOT / "templates"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

# What a hostile or careless person types, in every field that reaches a message.
INJECTION = "<!channel> <@U1> <https://x|y> &amp;"


def injection_of(field: str) -> str:
    """INJECTION as typed into `field`: tagged with the field's name (plain letters, which mrkdwn leaves
    alone), so that one world can carry every field's injection and each is still found where it shows."""
    return f"{INJECTION} mark{field.replace('_', '')}"


# Every template and every variant of it the flows produce. A variant is one branch of a template
# (an event, an outcome, with or without buttons...), named after what the reader sees.
TEMPLATE_VARIANTS: dict[str, tuple[str, ...]] = {
    "approval_request": (
        "buttons",
        "step_approved",
        "approved",
        "denied",
        "partial_quorum",
        "partial_quorum_mine",
        "quorum_approved",
        "via_admin",
        "cancelled",
        "expired",
        "extension",
    ),
    "request_update": (
        "filed",
        "step_approved",
        "approved",
        "denied_by_person",
        "denied_by_policy",
        "expired",
        "cancelled",
        "reminded",
        "escalated",
    ),
    "request_result": ("filed", "denied", "no_step"),
    "grant_update": ("revoked", "expired"),
    "notice": (
        "approved_step",
        "cancelled",
        "refused",
        "revoked",
        "relinquished",
        "licence_recorded",
        "licence_revoked",
    ),
    "help": ("member", "admin", "compliance"),
    "models": ("catalog",),
    "status": ("busy", "not_in_directory"),
    "home": ("busy", "not_in_directory", "admin"),
    "request_modal": ("blank", "initial_model"),
    "deny_modal": ("deny",),
    # A person's DM, per phase: what the directive did (or will do) to their grants and requests.
    "directive_notice": (
        "active_restricting",
        "active_nothing_held",
        "active_notice_only",
        "warning",
        "lifted",
        "withdrawn",
    ),
    # A model channel's announcement, per phase and population.
    "directive_channel": (
        "active_restricted",
        "active_everyone",
        "active_named",
        "active_notice_only",
        "warning",
        "lifted",
        "withdrawn",
    ),
    # The issuing admin's DM, as issued and as refresh_progress updates it.
    "directive_progress": ("issued", "warning", "delivered", "undelivered"),
    "directive_modal": ("form",),
    "directive_confirm": ("now", "scheduled", "notice_only", "named_users"),
    "directive_list": ("empty", "directives"),
    "directive_report": ("lifted", "undelivered"),
    # A holder's DM when the entitlement rule is re-checked: grants suspended (with their reasons), or back.
    "access_change": ("suspended", "reinstated"),
    # `/licence` (export compliance and access admins): the form, and the list of everyone's or one
    # person's licences.
    "licence_modal": ("form",),
    "licence_list": ("empty", "licences", "one_holder"),
    # The compliance channel's record of the audit chain's head: the daily one, and one asked for.
    "audit_checkpoint": ("daily", "on_demand"),
    # A holder's DM before a grant ends: with Extend, or why it cannot be extended; and the Extend form.
    "expiry_warning": ("extendable", "blocked"),
    "extend_modal": ("form",),
    # Break-glass use: the channel's announcement, an admin's review message, and the review's outcomes.
    "break_glass": ("announcement", "review", "kept", "revoked"),
    # An approver's reminder, in the thread of the request message that asked them.
    "approval_reminder": ("reminder",),
    # `/access report <model> [time]` (access admins): who could use a model at a moment.
    "access_report": ("holders", "nobody"),
}

# approval_request variants in which the viewer can still decide.
BUTTON_VARIANTS = frozenset({"buttons", "partial_quorum", "via_admin", "extension"})


def hostile(length: int, line: int | None = None) -> str:
    """Exactly `length` characters dense with mrkdwn control characters, in lines of `line` characters
    (newline included) when given. Never starts or ends with whitespace: the services strip input."""
    pattern = "R&D <team> & Q&A <<>> a<b>c && x>y "
    width = (line - 1) if line else length
    text = ""
    while len(text) < length:
        start = len(text) % len(pattern)
        text += (pattern[start:] + pattern * (width // len(pattern) + 1))[:width] + "\n"
    return "&" + text[1 : length - 1] + ">"


@dataclass(frozen=True)
class Profile:
    """What people typed and how much there is. `model_name` is formatted with the model's number `n`."""

    justification: str
    reason: str  # an approver's denial and an admin's revocation
    model_name: str
    provider: str
    step_name: str
    typed_model: str  # what someone typed as the model in `/access request`
    models: int  # catalog size
    approvers: int  # model owners, and access admins
    quorum: int  # approvals the quorum step needs
    items: int  # grants, pending requests and waiting approvals of one busy person
    # Directives: what an access admin typed into the form and `/directive lift`, and how much there is.
    title: str
    authority: str
    reference: str
    notice: str
    lift_reason: str
    named_users: int  # people a `users:` population names
    directives: int  # directives issued in all (the list shows the latest 40)
    undelivered: int  # people whose notice could not be delivered
    delivery_error: str  # the error the sender recorded for each of them
    # Licences: what export compliance typed into the `/licence` form (`licence_number` is formatted with
    # the licence's number `n`), and how many are recorded.
    licence_authority: str
    licence_number: str
    licences: int

    def name_of(self, n: int) -> str:
        return self.model_name.format(n=n)

    def with_injections(self, fields: Iterable[str]) -> Profile:
        """This profile with every one of `fields` holding its own injection (`injection_of`)."""
        return replace(
            self,
            **{
                field: injection_of(field) + (" {n}" if field in ("model_name", "licence_number") else "")
                for field in fields
            },
        )


REALISTIC = Profile(
    justification=(
        "Evaluating summarisation quality for the Q3 support report: I will compare it with our current "
        "model on 200 anonymised tickets and share the results with the support leads."
    ),
    reason="Please go through the data-protection review first; the tickets still contain customer names.",
    model_name="Mythos {n}",
    provider="Mythic Labs",
    step_name="Model owner",
    typed_model="gpt-9",
    models=12,
    approvers=3,
    quorum=2,
    items=3,
    title="Frontier models barred pending licence review",
    authority="Department of Commerce, Bureau of Industry and Security",
    reference="15 CFR 744.23 / Order 2026-117",
    notice=(
        "Access to the models below is suspended for the people this directive covers until export "
        "licences are on file. Your work and data are not deleted. If you believe this is a mistake, "
        "write to the access team; do not share model outputs received before today."
    ),
    lift_reason="The licence review is complete; access may resume under the usual terms.",
    named_users=3,
    directives=12,
    undelivered=1,
    delivery_error="account_inactive",
    licence_authority="US Department of Commerce, Bureau of Industry and Security",
    licence_number="D{n:07d}",
    licences=5,
)

# As much as the bot accepts: 3,000-character justifications and reasons (justification_max_chars,
# MAX_REASON), 60-character model and provider names, 100-character step names and 64-character slugs
# (workflows.py); one model more than a select can list; quorum 10 of 30 approvers; 50 of everything.
# Directives: 150-character titles and authorities, 100-character references, 2,500-character notices
# (bot/domain/directives.py), a 3,000-character lift reason (lift() sets no limit: the reason limit of the
# other commands), 500 named people, 50 directives, and most notices undelivered after the sender gave up.
WORST_CASE = Profile(
    justification=hostile(3000, line=100),
    reason=hostile(3000, line=100),
    model_name=hostile(56) + " {n:03d}",
    provider=hostile(60),
    step_name=hostile(100),
    typed_model="&<>" * 100,
    models=101,
    approvers=30,
    quorum=10,
    items=50,
    title=hostile(150),
    authority=hostile(150),
    reference=hostile(100),
    notice=hostile(2500, line=100),
    lift_reason=hostile(3000, line=100),
    named_users=500,
    directives=50,
    undelivered=450,
    delivery_error="gave up after 15 attempts: restricted_action_non_threadable_channel",
    licence_authority=hostile(100),
    licence_number=hostile(56) + " {n:03d}",
    licences=50,
)

# User-controlled fields, and the templates that show each one in mrkdwn.
INJECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "justification": ("approval_request", "break_glass"),
    "reason": ("approval_request", "request_update", "grant_update"),
    "model_name": (
        "access_report",
        "approval_request",
        "request_update",
        "request_result",
        "grant_update",
        "models",
        "status",
        "home",
        "notice",
        "directive_notice",
        "directive_channel",
        "directive_progress",
        "directive_confirm",
    ),
    "provider": ("models", "home"),
    "step_name": ("approval_request", "request_update", "request_result", "models", "status", "home"),
    "typed_model": ("notice",),
    "title": ("directive_notice", "directive_channel", "directive_progress", "directive_list"),
    "authority": ("directive_notice", "directive_channel", "directive_progress", "directive_confirm"),
    "reference": (
        "directive_notice",
        "directive_channel",
        "directive_progress",
        "directive_confirm",
        "directive_list",
        "directive_report",
    ),
    "notice": ("directive_notice", "directive_channel", "directive_confirm"),
    "lift_reason": ("directive_notice",),
    "licence_authority": ("licence_list", "notice"),
    "licence_number": ("licence_list", "notice"),
}
# Fields an admin types into a directive; with the model names, the text of every directive template.
DIRECTIVE_FIELDS = ("title", "authority", "reference", "notice", "lift_reason", "model_name")


@dataclass(frozen=True)
class Affected:
    """Someone a directive affected, with what the directory knows about them."""

    user_id: str
    name: str | None
    citizenships: tuple[str, ...]


@dataclass(frozen=True)
class Sample:
    template: str
    variant: str
    data: dict[str, Any]
    # Directive samples: everyone the directive affected (told, suspended or stopped), for privacy checks.
    affected: tuple[Affected, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.template}:{self.variant}"


class RecordingRenderer(Renderer):
    """The real renderer, remembering each template name and the data the caller passed."""

    def __init__(self, templates_dir: Path):
        super().__init__(templates_dir)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def render(self, name: str, **data: Any) -> dict[str, Any]:
        self.calls.append((name, copy.deepcopy(data)))
        return super().render(name, **data)


# -- the installation -------------------------------------------------------------------------------

MANAGER = "U0MGR"
ALICE = "U0ALICE"  # a US person
BOB = "U0BOB"  # citizenship and US-person status unknown: export compliance must review
CAROL = "U0CAROL"  # not a US person
DANA = "U0DANA"  # the busy person: many grants, pending requests and reports to approve for
OUTSIDER = "U0NOBODY"  # not in the directory
COMPLIANCE = ("U0EXP1", "U0EXP2")

FRONTIER, QUORUM, STRICT, STANDARD, SUSPENDED = "mythos-5", "quorum-7", "strict-2", "lumen-3", "legacy-2"

# Directives: ERIK is another non-US person; NEWHIRE is named by a directive before they hold or ask for
# anything, and is not in the directory yet.
ERIK = "U0ERIK"
NEWHIRE = "U0NEWHIRE"
# The directory forgets where REX works: the entitlement rule holds every grant of theirs until it knows.
REX = "U0REX"
# Where each model is announced (workflows/models.yaml announce_channels).
EXPORT_CHANNEL = "C0EXPORTS"
# Where audit checkpoints are posted (policy.yaml compliance_channel).
AUDIT_CHANNEL = "C0AUDIT"
ANNOUNCED = {FRONTIER: ("C0AIFRONT", EXPORT_CHANNEL), STANDARD: ("C0LUMEN",)}
# Citizenships of the people a big named-users population adds to the directory.
COUNTRIES = ("IN", "CN", "BR", "NG", "DE", "IR", "KP", "RU", "GB", "MX", "VN", "PK")


def owner(i: int) -> str:
    return f"U0OWN{i:02d}"


def admin(i: int) -> str:
    return f"U0ADM{i:02d}"


def report(i: int) -> str:
    return f"U0REP{i:02d}"


def named_person(i: int) -> str:
    return f"U0N{i:04d}"


ISSUER = admin(0)  # the access admin who issues and lifts directives
# The phases of a directive's announcements (a scheduled directive lifted before it took effect is
# withdrawn).
ACTIVATION, WARNING = DirectivePhase.ACTIVATION, DirectivePhase.WARNING
LIFTING, WITHDRAWN = DirectivePhase.LIFTING, DirectivePhase.WITHDRAWAL


def build_catalog(profile: Profile) -> Catalog:
    named = profile.step_name
    chains = {
        "frontier": Chain(
            "frontier",
            (
                StepRule("Manager", "manager"),
                StepRule(named, "model-owner"),
                StepRule("Export compliance", "export-compliance"),
            ),
        ),
        "quorum": Chain("quorum", (StepRule(named, "model-owner", profile.quorum),)),
        # More approvers than the directory has: the access admins are asked too.
        "strict": Chain("strict", (StepRule(named, "export-compliance", 3),)),
        "standard": Chain("standard", (StepRule("Manager", "manager"),)),
        "owners": Chain("owners", (StepRule(named, "model-owner"),)),
    }
    fixed = [
        (FRONTIER, "frontier", "available", True),
        (QUORUM, "quorum", "available", False),
        (STRICT, "strict", "available", False),
        (STANDARD, "standard", "available", False),
        (SUSPENDED, "standard", "suspended", False),
    ]
    # Slugs as long as workflows.py allows (64 characters) once the catalog is big.
    width = 64 if profile.models > 50 else 0
    fillers = [
        (f"model-{i:03d}".ljust(width, "x"), "standard" if i % 2 else "owners", "available", False)
        for i in range(profile.models - len(fixed))
    ]

    # A big catalog announces every model in a channel of its own and in the export-control channel.
    def channels(n: int, slug: str) -> tuple[str, ...]:
        return (f"C0MODEL{n:03d}", EXPORT_CHANNEL) if width else ANNOUNCED.get(slug, ())

    models = {
        slug: Model(
            slug=slug,
            name=profile.name_of(n),
            provider=profile.provider,
            status=status,
            default_duration=timedelta(days=30),
            max_duration=timedelta(days=90),
            chain=chain,
            announce_channels=channels(n, slug),
            us_persons_only=us_only,
            description="A large language model.",
        )
        for n, (slug, chain, status, us_only) in enumerate(fixed + fillers)
    }
    return Catalog(
        models=models,
        chains=chains,
        policy=Policy(contact="#ai-access-help", compliance_channel=AUDIT_CHANNEL),
    )


def email(user_id: str) -> str:
    return f"{user_id.lower()}@example.com"


def us_person(user_id: str, *, manager: str | None = MANAGER, roles: tuple[str, ...] = ()) -> Person:
    """Someone whose citizenship, work country and US-person status are on file and pass every check."""
    return Person(
        user_id,
        email(user_id),
        user_id.removeprefix("U0").title(),
        manager_email=email(manager) if manager else None,
        work_country="US",
        citizenships=frozenset({"US"}),
        us_person=True,
        roles=frozenset(roles),
    )


def build_people(profile: Profile) -> list[Person]:
    return [
        us_person(MANAGER, manager=None),
        us_person(ALICE),
        us_person(DANA),
        Person(BOB, email(BOB), "Bob", manager_email=email(MANAGER)),
        Person(
            CAROL,
            email(CAROL),
            "Carol",
            manager_email=email(MANAGER),
            work_country="FR",
            citizenships=frozenset({"FR"}),
            us_person=False,
        ),
        *(us_person(user, roles=("export-compliance",)) for user in COMPLIANCE),
        *(us_person(owner(i), roles=("model-owner",)) for i in range(profile.approvers)),
        *(us_person(admin(i), roles=("access-admin",)) for i in range(profile.approvers)),
        *(us_person(report(i), manager=DANA) for i in range(profile.items)),
    ]


Calls = list[tuple[str, dict[str, Any]]]


def pick(
    calls: Calls, template: str, where: Callable[[dict[str, Any]], bool] = lambda _: True
) -> dict[str, Any]:
    """The data of the one render of `template` in `calls` that matches `where`."""
    found = [data for name, data in calls if name == template and where(data)]
    assert len(found) == 1, f"expected one {template} render, found {len(found)}"
    return found[0]


def pick_same(
    calls: Calls, template: str, where: Callable[[dict[str, Any]], bool] = lambda _: True
) -> dict[str, Any]:
    """The data of the renders of `template` in `calls` that match `where`, one per channel: the same each
    time."""
    found = [data for name, data in calls if name == template and where(data)]
    assert found, f"expected a {template} render, found none"
    assert all(data == found[0] for data in found), f"{template} rendered differently per channel"
    return found[0]


def of_directive(directive_id: int) -> Callable[[dict[str, Any]], bool]:
    return lambda data: data["directive"]["id"] == directive_id


def event(request_id: int | None, name: str) -> Callable[[dict[str, Any]], bool]:
    """The render about this request for this requester's update event."""
    return lambda data: data["request"]["id"] == request_id and data.get("event") == name


def about(request_id: int | None, viewer: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def match(data: dict[str, Any]) -> bool:
        same_request = data["request"]["id"] == request_id
        return same_request and (viewer is None or data.get("viewer") == viewer)

    return match


class World:
    def __init__(self, path: Path, profile: Profile, templates_dir: Path = TEMPLATES_DIR):
        self.profile = profile
        self.now = NOW
        self.db = Database(f"sqlite:///{path / 'accessbot.db'}", pool=False)
        SQLModel.metadata.create_all(self.db.engine)
        self.renderer = RecordingRenderer(templates_dir)
        self.ctx = Context(db=self.db, catalog=build_catalog(profile), clock=self.clock)
        self.samples: dict[str, Sample] = {}
        with self.db.uow() as uow:
            listed = build_people(profile)
            existing = directory.load_people(uow.session, [p.slack_user_id for p in listed])
            directory.upsert_people(uow.session, listed, existing)
            uow.commit()

    def clock(self) -> datetime:
        return self.now

    def close(self) -> None:
        self.db.dispose()

    # -- helpers ----------------------------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        """The renders during the block, then those of the messages it queued, rendered in order as the
        sender does (those composed from state at send time are rendered by the test that wants them)."""
        calls: Calls = []
        start = len(self.renderer.calls)
        with self.db.read() as session:
            queued_before = session.exec(select(func.max(OutboxMessage.id))).one() or 0
        yield calls
        with self.db.read() as session:
            queued = session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.id) > queued_before)
                .order_by(col(OutboxMessage.id))
            ).all()
        composer = Composer(self.ctx, self.renderer)
        for row in queued:
            if "template" in row.payload:
                composer(row)
        calls.extend(self.renderer.calls[start:])

    def keep(self, template: str, variant: str, data: dict[str, Any]) -> None:
        assert variant in TEMPLATE_VARIANTS[template], f"{template}: unknown variant {variant}"
        self.samples[f"{template}:{variant}"] = Sample(template, variant, data)

    def submit(self, requester: str, model: str, duration: timedelta | None = None) -> int:
        outcome = requests.submit_request(
            self.ctx,
            requester_id=requester,
            model_slug=model,
            duration=duration,
            justification=self.profile.justification,
        )
        self.shown(outcome)
        assert outcome.subject_id is not None
        return outcome.subject_id

    def decide(
        self, request_id: int, approver: str, verdict: str = "approve", reason: str | None = None
    ) -> None:
        position = self.request(request_id).current_step or 0
        self.shown(
            approvals.decide(
                self.ctx,
                request_id=request_id,
                position=position,
                approver_id=approver,
                verdict=verdict,
                reason=reason,
            )
        )

    def shown(self, outcome: Outcome) -> None:
        """Render the use case's answer as the Slack layer does, so that the recording sees it."""
        self.renderer.reply(outcome.reply)

    def request(self, request_id: int) -> AccessRequest:
        with self.db.read() as session:
            found = session.get(AccessRequest, request_id)
            assert found is not None
            return found

    def approve_fully(self, request_id: int) -> None:
        """Approve step after step, each time by the first approver asked who has not decided yet."""
        while (request := self.request(request_id)).status == "pending":
            position = request.current_step or 0
            with self.db.read() as session:
                decided = {d.approver_id for d in queries.decisions_of(session, request_id)}
                asked = [t.approver_id for t in queries.tasks_at(session, request_id, position)]
            self.decide(request_id, next(a for a in asked if a not in decided))

    def grant_of(self, request_id: int) -> AccessGrant:
        with self.db.read() as session:
            found = session.exec(select(AccessGrant).where(AccessGrant.request_id == request_id)).first()
            assert found is not None
            return found

    def requests_of(self, user: str) -> list[AccessRequest]:
        with self.db.read() as session:
            return queries.requests_of(session, user)

    # -- flows ------------------------------------------------------------------------------------

    def build(self) -> dict[str, Sample]:
        frontier = self.approval_chain()
        self.denials()
        self.quorum()
        self.via_admin()
        self.cancel_and_refuse()
        self.request_expiry()
        self.busy_person()
        self.listings(frontier)
        self.access_reports()
        self.grant_endings(frontier)
        self.entitlement_changes()
        self.directive_flows()
        self.licence_flows()
        self.audit_checkpoints()
        self.extension()
        self.reminders()
        self.break_glass()
        missing = [
            f"{t}:{v}"
            for t, variants in TEMPLATE_VARIANTS.items()
            for v in variants
            if f"{t}:{v}" not in self.samples
        ]
        assert not missing, f"flows produced no sample for {missing}"
        return self.samples

    def approval_chain(self) -> int:
        """Alice asks for the frontier model; manager, model owner and export compliance approve."""
        with self.recording() as calls:
            rid = self.submit(ALICE, FRONTIER)
        self.keep("approval_request", "buttons", pick(calls, "approval_request", about(rid, MANAGER)))
        with self.recording() as calls:
            self.decide(rid, MANAGER)
        self.keep("approval_request", "step_approved", pick(calls, "approval_request", about(rid, MANAGER)))
        self.keep("request_update", "step_approved", pick(calls, "request_update"))
        self.keep("notice", "approved_step", pick(calls, "notice"))
        self.decide(rid, owner(0))
        with self.recording() as calls:
            self.decide(rid, COMPLIANCE[0])
        self.keep("approval_request", "approved", pick(calls, "approval_request", about(rid, COMPLIANCE[0])))
        self.keep("request_update", "approved", pick(calls, "request_update"))
        # The requester's answer had the request not been waiting on anyone (not reachable today).
        self.keep(
            "request_result",
            "no_step",
            {"request": pick(calls, "request_update")["request"], "waiting_on": None},
        )
        return rid

    def denials(self) -> None:
        """Bob's request is denied by export compliance with a reason; Carol's by policy at once."""
        rid = self.submit(BOB, FRONTIER)
        self.decide(rid, MANAGER)
        self.decide(rid, owner(0))
        with self.recording() as calls:
            self.decide(rid, COMPLIANCE[1], "deny", self.profile.reason)
        self.keep("approval_request", "denied", pick(calls, "approval_request", about(rid, COMPLIANCE[0])))
        self.keep("request_update", "denied_by_person", pick(calls, "request_update"))
        with self.recording() as calls:
            self.submit(CAROL, FRONTIER)
        self.keep("request_result", "denied", pick(calls, "request_result"))
        self.keep("request_update", "denied_by_policy", pick(calls, "request_update"))

    def quorum(self) -> None:
        """Model owners approve one by one until the quorum is met."""
        with self.recording() as calls:
            rid = self.submit(ALICE, QUORUM)
        # Waiting on every model owner, under the step name an admin wrote.
        self.keep("request_update", "filed", pick(calls, "request_update"))
        self.keep("request_result", "filed", pick(calls, "request_result"))
        last = self.profile.quorum - 1
        for i in range(last):
            with self.recording() as calls:
                self.decide(rid, owner(i))
        self.keep(
            "approval_request",
            "partial_quorum_mine",
            pick(calls, "approval_request", about(rid, owner(last - 1))),
        )
        self.keep(
            "approval_request", "partial_quorum", pick(calls, "approval_request", about(rid, owner(last)))
        )
        with self.recording() as calls:
            self.decide(rid, owner(last))
        self.keep(
            "approval_request", "quorum_approved", pick(calls, "approval_request", about(rid, owner(last)))
        )

    def via_admin(self) -> None:
        """Too few export-compliance approvers for Bob's review step: the access admins are asked too."""
        with self.recording() as calls:
            rid = self.submit(BOB, STRICT)
        self.keep("approval_request", "via_admin", pick(calls, "approval_request", about(rid, admin(0))))

    def cancel_and_refuse(self) -> None:
        rid = self.submit(ALICE, STANDARD)
        with self.recording() as calls:
            outcome = requests.cancel_request(self.ctx, actor_id=ALICE, request_id=rid)
            self.shown(outcome)
        self.keep("approval_request", "cancelled", pick(calls, "approval_request", about(rid, MANAGER)))
        self.keep("notice", "cancelled", pick(calls, "notice"))
        assert outcome.status == "cancelled"

        # `/access request <what they typed> …`; the listener turns the Refusal into a notice
        # (bot/slack/responder.py).
        def file_unknown_model() -> Reply:
            outcome = requests.submit_request(
                self.ctx,
                requester_id=ALICE,
                model_slug=self.profile.typed_model,
                duration=None,
                justification=self.profile.justification,
            )
            return outcome.reply

        responder = Responder(self.ctx, self.renderer, workers=1)
        try:
            with self.recording() as calls:
                answer = responder.attempt(file_unknown_model, {})
                assert answer.reply is not None
                responder.render(answer.reply)
        finally:
            responder.shutdown()
        assert answer.refusal is not None
        self.keep("notice", "refused", pick(calls, "notice"))

    def request_expiry(self) -> None:
        """Bob withdraws his pending request; Alice's next one expires without a decision."""
        # cancel_request tells the approvers but not the requester; this is what finish_request sends
        # when the requester is told.
        bob_pending = next(r for r in self.requests_of(BOB) if r.status == "pending")
        with self.recording() as calls, self.db.uow() as uow:
            row = queries.lock_request(uow.session, bob_pending.id or 0)
            assert row is not None
            approvals.finish_request(
                self.ctx, uow.session, row, "cancelled", reason="Cancelled by the requester.", actor=BOB
            )
            uow.commit()
        self.keep("request_update", "cancelled", pick(calls, "request_update"))
        rid = self.submit(ALICE, STANDARD)
        self.now += self.ctx.catalog.policy.request_ttl + timedelta(minutes=1)
        with self.recording() as calls:
            requests.expire_stale_requests(self.ctx)
        self.keep("request_update", "expired", pick(calls, "request_update", about(rid)))
        self.keep("approval_request", "expired", pick(calls, "approval_request", about(rid, MANAGER)))

    def busy_person(self) -> None:
        """Dana holds `items` grants, waits on `items` requests, and `items` reports wait on her."""
        held = [slug for slug, m in self.ctx.catalog.models.items() if m.status == "available"]
        held.sort(key=lambda slug: self.ctx.catalog.models[slug].chain != "standard")
        assert len(held) >= 2 * self.profile.items, "the catalog is too small for the busy person"
        for slug in held[: self.profile.items]:
            self.approve_fully(self.submit(DANA, slug))
        for slug in held[-self.profile.items :]:
            self.submit(DANA, slug)
        for i in range(self.profile.items):
            self.submit(report(i), held[0])
        # A directive can suspend a grant without ending it.
        with self.db.uow() as uow:
            grant = queries.grants_of(uow.session, DANA)[0]
            grant.status = "suspended"
            uow.session.add(grant)
            uow.commit()

    def listings(self, frontier: int) -> None:
        ctx = self.ctx
        # Dana hands her approvals to others while away, and decides for someone herself: her App Home
        # shows both (as many as the page holds in the worst case).
        week = self.now + timedelta(days=7)
        for n in range(min(self.profile.items, 12)):
            delegations.delegate(ctx, delegator_id=DANA, delegate_id=report(n), ends_at=week, role=None)
        delegations.delegate(
            ctx, delegator_id=MANAGER, delegate_id=DANA, ends_at=self.now + timedelta(days=7), role=None
        )
        with self.db.read() as session:
            # As `/access status`, `/access models` and `/access help` do (bot/slack/commands.py).
            for variant, user in (("busy", DANA), ("not_in_directory", OUTSIDER)):
                self.keep("status", variant, status_data(ctx, session, user))
                self.keep("home", variant, home_data(ctx, session, user))
            self.keep("models", "catalog", {"models": catalog_entries(ctx, session)})
            policy = ctx.catalog.policy
            for variant, user in (("member", ALICE), ("admin", admin(0)), ("compliance", COMPLIANCE[0])):
                is_admin = directory.has_role(session, user, policy.admin_role)
                handles = is_admin or directory.has_role(session, user, policy.compliance_role)
                self.keep(
                    "help", variant, help_data(ctx.catalog, is_admin=is_admin, handles_licences=handles)
                )
        responder = Responder(ctx, self.renderer, workers=1)
        try:
            surfaces = Surfaces(ctx, responder)
            with self.recording() as calls:
                surfaces.request_form()
            self.keep("request_modal", "blank", pick(calls, "request_modal"))
            with self.recording() as calls:
                surfaces.request_form(FRONTIER)
            self.keep("request_modal", "initial_model", pick(calls, "request_modal"))
        finally:
            responder.shutdown()
        # As the Deny button does (bot/slack/actions.py): the clicked button's value, and its request.
        value = self.samples["approval_request:buttons"].data["button_value"]
        request_id = approvals.parse_button_value(value).request_id
        assert request_id == frontier
        self.keep("deny_modal", "deny", {"button_value": value, "request_label": f"R{request_id}"})

    def access_reports(self) -> None:
        """As `/access report` does (bot/slack/commands.py): who could use the frontier model now, and
        before anyone had been granted it."""
        catalog = self.ctx.catalog
        for variant, at in (("holders", self.now), ("nobody", NOW - timedelta(days=1))):
            report = access_reports.access_at(self.ctx, FRONTIER, at)
            assert bool(report.holders) == (variant == "holders")
            self.keep("access_report", variant, dict(access_report_screen(catalog, report).data))

    def break_glass(self) -> None:
        """Last: the frontier model allows break-glass to access admins; two admins use it (each as
        `/access breakglass` does), another keeps one and revokes the other (bot/services/break_glass.py)."""
        catalog = self.ctx.catalog
        frontier = replace(
            catalog.models[FRONTIER], break_glass=BreakGlassRule(("access-admin",), timedelta(hours=4))
        )
        policy = replace(catalog.policy, break_glass_channel=EXPORT_CHANNEL)
        self.ctx = replace(
            self.ctx, catalog=Catalog({**catalog.models, FRONTIER: frontier}, catalog.chains, policy)
        )
        uses = []
        for n in (1, 2):
            with self.recording() as calls:
                uses.append(
                    break_glass.use_break_glass(
                        self.ctx, user_id=admin(n), model_slug=FRONTIER, reason=self.profile.justification
                    )
                )
        self.keep("break_glass", "announcement", pick(calls, "break_glass", lambda d: not d["review"]))
        self.keep("break_glass", "review", pick_same(calls, "break_glass", lambda d: d["review"]))
        for use, keep, variant in ((uses[0], True, "kept"), (uses[1], False, "revoked")):
            with self.recording() as calls:
                break_glass.review(
                    self.ctx, reviewer=admin(0), use_id=use.use.id or 0, keep=keep,
                    reason=None if keep else self.profile.reason,
                )  # fmt: skip
            self.keep("break_glass", variant, pick_same(calls, "break_glass"))
        with self.db.read() as session:
            # An access admin's App Home, with the break-glass uses to review (bot/present/status.py).
            self.keep("home", "admin", home_data(self.ctx, session, admin(0)))
        self.ctx = replace(self.ctx, catalog=catalog)

    def reminders(self) -> None:
        """Last: Bob's request waits on its approvers; the reminder job reminds them once a day, then
        escalates to the access admins (bot/services/approvals/reminders.py)."""
        start = self.now
        rid = self.submit(BOB, STANDARD)
        timings = self.ctx.catalog.reminders_for(self.ctx.catalog.model(STANDARD))
        self.now = start + timings.remind_after
        with self.recording() as calls:
            assert approvals.remind_and_escalate(self.ctx) >= 1  # earlier flows' requests wait too
        self.keep("approval_reminder", "reminder", pick_same(calls, "approval_reminder", about(rid)))
        self.keep("request_update", "reminded", pick(calls, "request_update", event(rid, "reminded")))
        self.now = start + timings.escalate_after
        with self.recording() as calls:
            assert approvals.remind_and_escalate(self.ctx) >= 1
        self.keep("request_update", "escalated", pick(calls, "request_update", event(rid, "escalated")))
        self.now = start

    def extension(self) -> None:
        """Last, once every directive is lifted: Alice's grant nears its end. She is warned (with
        Extend), opens the Extend form as the button does (bot/slack/actions.py) and asks; she is warned
        again while it waits (no Extend: it is waiting); her manager approves and the grant runs on."""
        # The directive flows restrict every model; they are lifted first (their samples are taken).
        with self.db.read() as session:
            in_force = [d.id for d in directives.list_directives(session, include_lifted=False)]
        for directive_id in in_force:
            directives.lift(self.ctx, actor=admin(0), directive_id=directive_id)
        rid = self.submit(ALICE, STANDARD, timedelta(days=10))
        self.approve_fully(rid)
        grant = self.grant_of(rid)
        start = self.now
        self.now = grant.expires_at - timedelta(days=3)
        with self.recording() as calls:
            assert extensions.warn_expiring(self.ctx) == 1
        self.keep("expiry_warning", "extendable", pick(calls, "expiry_warning"))
        form = extensions.extension_form(self.ctx, ALICE, grant.id or 0)
        self.keep("extend_modal", "form", dict(form.data))
        with self.recording() as calls:
            filed = extensions.submit_extension(
                self.ctx, holder_id=ALICE, grant_id=grant.id or 0, duration=timedelta(days=7),
                justification=self.profile.justification,
            )  # fmt: skip
        self.keep("approval_request", "extension", pick(calls, "approval_request", about(filed.subject_id)))
        self.now = grant.expires_at - timedelta(days=1)
        with self.recording() as calls:
            assert extensions.warn_expiring(self.ctx) == 1
        self.keep("expiry_warning", "blocked", pick(calls, "expiry_warning"))
        self.approve_fully(filed.subject_id or 0)
        assert self.grant_of(rid).expires_at == grant.expires_at + timedelta(days=7)
        self.now = start

    def grant_endings(self, frontier: int) -> None:
        with self.recording() as calls:
            revoked = grants.revoke_grant(
                self.ctx,
                admin_id=admin(0),
                grant_id=self.grant_of(frontier).id or 0,
                reason=self.profile.reason,
            )
            self.shown(revoked)
        self.keep("grant_update", "revoked", pick(calls, "grant_update"))
        self.keep("notice", "revoked", pick(calls, "notice"))
        quorum_request = next(
            r.id for r in self.requests_of(ALICE) if r.model == QUORUM and r.status == "approved"
        )
        with self.recording() as calls:
            self.shown(
                grants.relinquish_grant(
                    self.ctx, holder_id=ALICE, grant_id=self.grant_of(quorum_request or 0).id or 0
                )
            )
        self.keep("notice", "relinquished", pick(calls, "notice"))
        self.now += timedelta(days=365)
        with self.recording() as calls:
            grants.expire_due_grants(self.ctx)
        expired = [data for name, data in calls if name == "grant_update"]
        assert expired, "no grant expired"
        self.keep("grant_update", "expired", expired[0])

    # -- directives -------------------------------------------------------------------------------

    def draft(
        self, models: list[str], population: str, action: str = SUSPEND, effective_at: datetime | None = None
    ) -> Draft:
        """What the admin entered in the form, checked as the form's listener checks it."""
        p = self.profile
        return check_draft(
            title=p.title,
            authority=p.authority,
            reference=p.reference,
            notice=p.notice,
            models=models,
            known_models=set(self.ctx.catalog.models),
            population=population,
            action=action,
            effective_at=effective_at,
            now=self.now,
        )

    def issue(self, draft: Draft, *, progress: bool = True) -> int:
        """Issue a directive at once, as `accessbot directive issue` does; with `progress`, the issuing
        admin also gets the progress message, as when issued from the form."""
        issued = directives.issue(
            self.ctx, actor=ISSUER, draft=draft, progress_to=ISSUER if progress else None
        )
        return issued.directive.id or 0

    def review(self, draft: Draft) -> tuple[int, dict[str, Any]]:
        """The form's confirmation step (form_submitted in bot/slack/directives.py): the draft is kept and
        its impact measured. Returns the draft's id and the confirm view's data."""
        draft_id, impact = directives.save_draft(self.ctx, actor=ISSUER, draft=draft)
        with self.db.read() as session:
            stored = session.get(Directive, draft_id)
            assert stored is not None
            data = directive_data(self.ctx, stored, draft_of(session, stored))
        view = {"directive": data, "impact": impact.as_dict(), "scheduled": draft.effective_at is not None}
        return draft_id, view

    def confirm(self, draft_id: int) -> None:
        """The confirm view submitted (confirmed in bot/slack/directives.py)."""
        directives.issue(self.ctx, actor=ISSUER, draft_id=draft_id, progress_to=ISSUER)

    def lift(self, directive_id: int) -> None:
        directives.lift(self.ctx, actor=ISSUER, directive_id=directive_id, reason=self.profile.lift_reason)

    def notice_to(self, directive_id: int, phase: str, user: str) -> dict[str, Any]:
        """The DM `user` gets in one phase, composed from its outbox row as the sender does."""
        with self.db.read() as session:
            row = session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.group_key == group_key(directive_id, phase),
                    OutboxMessage.kind == OutboxKind.POST,
                    OutboxMessage.address == user,
                )
            ).one()
        with self.recording() as calls:
            Composer(self.ctx, self.renderer)(row)
        return pick(calls, "directive_notice", of_directive(directive_id))

    def deliver(
        self,
        directive_id: int,
        phase: str,
        failed: dict[str, str] | None = None,
        pending: tuple[str, ...] = (),
    ) -> None:
        """What the sender writes once a broadcast is out: each notice and post sent, or failed with the
        error it gave up on (`failed`, by address); those in `pending` are still on the way."""
        failed = failed or {}
        with self.db.uow() as uow:
            rows = uow.session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.group_key == group_key(directive_id, phase),
                    OutboxMessage.kind == OutboxKind.POST,
                )
            ).all()
            for row in rows:
                if row.address in pending:
                    continue
                if row.address in failed:
                    row.status, row.last_error, row.attempts = "failed", failed[row.address], 15
                else:
                    row.status, row.sent_at, row.attempts = "sent", self.now, 1
                uow.session.add(row)
            uow.commit()

    def refresh_progress(self, directive_id: int) -> dict[str, Any]:
        """The scheduler's refresh_progress job; the progress message it renders for `directive_id`."""
        with self.recording() as calls:
            directives.refresh_progress(self.ctx)
        return pick(calls, "directive_progress", of_directive(directive_id))

    def affected_by(self, directive_id: int) -> tuple[Affected, ...]:
        """Everyone the directive told, suspended a grant of or stopped a request of, in any phase."""
        groups = [group_key(directive_id, phase) for phase in (ACTIVATION, WARNING, LIFTING, WITHDRAWN)]
        with self.db.read() as session:
            told = session.exec(
                select(OutboxMessage.address).where(
                    col(OutboxMessage.group_key).in_(groups), OutboxMessage.kind == OutboxKind.POST
                )
            ).all()
            suspended = session.exec(
                select(GrantSuspension.user_id).where(GrantSuspension.directive_id == directive_id)
            ).all()
            stopped = session.exec(
                select(AccessRequest.requester_id).where(AccessRequest.directive_id == directive_id)
            ).all()
            users = sorted({u for u in (*told, *suspended, *stopped) if u[:1] in ("U", "W")})
            known = directory.load_people(session, users)
        return tuple(
            Affected(u, known[u].name, tuple(sorted(known[u].citizenships)))
            if u in known
            else Affected(u, None, ())
            for u in users
        )

    def entitlement_changes(self) -> None:
        """Rex holds grants on the standard models; a directory import that loses his work country has
        the re-check suspend every one (reason: not on file), and the next one gives them back."""
        p, catalog = self.profile, self.ctx.catalog
        rex = us_person(REX)
        standard = [s for s, m in catalog.models.items() if m.chain == "standard" and m.status == "available"]
        self.set_people([rex])
        for slug in standard[: max(1, p.items)]:
            self.approve_fully(self.submit(REX, slug))
        for variant, person in (("suspended", replace(rex, work_country=None)), ("reinstated", rex)):
            self.set_people([person])
            with self.db.uow() as uow:
                recheck.recheck(self.ctx, uow.session, trigger="directory import", actor="test")
                uow.commit()
            with self.db.read() as session:
                row = session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.address == REX, OutboxMessage.kind == OutboxKind.POST)
                    .order_by(col(OutboxMessage.id).desc())
                ).first()
            assert row is not None and row.payload.get("compose") == "access_change", variant
            with self.recording() as calls:
                Composer(self.ctx, self.renderer)(row)
            self.keep("access_change", variant, pick(calls, "access_change"))

    def set_people(self, people: list[Person]) -> None:
        """Add or update people in the directory, as an import does."""
        with self.db.uow() as uow:
            existing = directory.load_people(uow.session, [p.slack_user_id for p in people])
            directory.upsert_people(uow.session, people, existing)
            uow.commit()

    def directive_flows(self) -> None:
        """Six directives, one after the other, as an access admin issues and lifts them; then more, up to
        `directives`, and the list and the reports as an admin asks for them at the end."""
        p, catalog = self.profile, self.ctx.catalog
        with self.db.read() as session:
            # As `/directive list` and `/directive` (the form) do (bot/slack/directives.py).
            self.keep(
                "directive_list",
                "empty",
                {"directives": [d.as_json() for d in directives.list_directives(session)]},
            )
            self.keep("directive_modal", "form", {"models": catalog_entries(self.ctx, session)})
        others = [named_person(i) for i in range(p.named_users - 3)]
        with self.db.uow() as uow:
            erik = Person(
                ERIK,
                email(ERIK),
                "Erik",
                manager_email=email(MANAGER),
                work_country="DE",
                citizenships=frozenset({"DE"}),
                us_person=False,
            )
            people = [
                Person(
                    user,
                    email(user),
                    f"Named Person {i:04d}",
                    manager_email=email(MANAGER),
                    work_country=COUNTRIES[i % len(COUNTRIES)],
                    citizenships=frozenset(
                        {COUNTRIES[i % len(COUNTRIES)], COUNTRIES[(i + 5) % len(COUNTRIES)]}
                    ),
                    us_person=False,
                )
                for i, user in enumerate(others)
            ]
            added = [erik, *people]
            existing = directory.load_people(uow.session, [p.slack_user_id for p in added])
            directory.upsert_people(uow.session, added, existing)
            uow.commit()

        # Carol (not a US person) holds grants and waits on requests; two one-day grants end before the
        # first directive is lifted. Erik holds one grant; Alice, a US person, holds one and waits on the
        # frontier model.
        fillers = [s for s in catalog.models if s.startswith("model-")]
        short, short_too = [s for s in fillers if catalog.models[s].chain == "standard"][:2]
        extras = [s for s in fillers if s not in (short, short_too)]
        held = [STANDARD, QUORUM, short, short_too, *extras[: max(0, p.items - 4)]]
        asked = [STRICT, *extras[max(0, p.items - 4) :][: max(0, p.items - 2)]]
        for slug in held:
            one_day = timedelta(days=1) if slug in (short, short_too) else None
            self.approve_fully(self.submit(CAROL, slug, one_day))
        for slug in asked:
            self.submit(CAROL, slug)
        self.approve_fully(self.submit(ERIK, STANDARD))
        self.approve_fully(self.submit(ALICE, QUORUM))
        self.submit(ALICE, FRONTIER)
        # The models every directive names: in a big catalog, all the available ones.
        available = [s for s, m in catalog.models.items() if m.status == "available"]
        restricted = available if p.models > 50 else [FRONTIER, STANDARD, QUORUM, STRICT, short, short_too]

        # D1: non-US persons lose access now.
        with self.recording() as calls:
            d1 = self.issue(self.draft(restricted, "non-us-persons"))
        self.keep("directive_progress", "issued", pick(calls, "directive_progress"))
        self.keep("directive_channel", "active_restricted", pick_same(calls, "directive_channel"))
        self.keep("directive_notice", "active_restricting", self.notice_to(d1, ACTIVATION, CAROL))

        # D2, through the form: French citizens, on every model but two. Carol's grants are suspended by
        # D1 already; when D1 is lifted her grant of one of the two comes back, the one-day grant of the
        # other has ended, and the rest stay suspended under D2 (one of them has ended too).
        d2, view = self.review(
            self.draft([s for s in restricted if s not in (QUORUM, short)], "citizenship:FR")
        )
        self.keep("directive_confirm", "now", view)
        self.confirm(d2)
        self.submit(ERIK, QUORUM)  # denied when asked: D1 covers him
        self.now += timedelta(days=2)
        grants.expire_due_grants(self.ctx)  # Carol's one-day grants end while suspended
        with self.recording() as calls:
            self.lift(d1)
        self.keep("directive_channel", "lifted", pick_same(calls, "directive_channel"))
        self.keep("directive_notice", "lifted", self.notice_to(d1, LIFTING, CAROL))

        # D3, through the form: a notice to everyone, changing nothing; every notice arrives.
        d3, view = self.review(self.draft(restricted, "everyone", NOTICE))
        self.keep("directive_confirm", "notice_only", view)
        with self.recording() as calls:
            self.confirm(d3)
        self.keep("directive_channel", "active_notice_only", pick_same(calls, "directive_channel"))
        self.keep("directive_notice", "active_notice_only", self.notice_to(d3, ACTIVATION, CAROL))
        self.deliver(d3, ACTIVATION)
        self.keep("directive_progress", "delivered", self.refresh_progress(d3))

        # D4, through the form: everyone, in a week. People are warned now; it takes effect on time.
        d4, view = self.review(self.draft(restricted, "everyone", effective_at=self.now + timedelta(days=7)))
        self.keep("directive_confirm", "scheduled", view)
        with self.recording() as calls:
            self.confirm(d4)
        self.keep("directive_progress", "warning", pick(calls, "directive_progress"))
        self.keep("directive_channel", "warning", pick_same(calls, "directive_channel"))
        self.keep("directive_notice", "warning", self.notice_to(d4, WARNING, ALICE))

        # D5: scheduled for next month, withdrawn before it takes effect.
        d5 = self.issue(
            self.draft(restricted, "non-us-persons", effective_at=self.now + timedelta(days=30)),
            progress=False,
        )
        with self.recording() as calls:
            self.lift(d5)
        self.keep("directive_channel", "withdrawn", pick_same(calls, "directive_channel"))
        self.keep("directive_notice", "withdrawn", self.notice_to(d5, WITHDRAWN, CAROL))

        self.now += timedelta(days=8)
        with self.recording() as calls:
            assert directives.activate_due(self.ctx) == 1
        self.keep(
            "directive_channel", "active_everyone", pick_same(calls, "directive_channel", of_directive(d4))
        )

        # D6: named people, one of whom holds nothing yet. Some notices and a channel post fail.
        population = [CAROL, ERIK, NEWHIRE, *others]
        with self.recording() as calls:
            d6 = self.issue(self.draft(restricted, "users:" + ";".join(population)))
        self.keep("directive_channel", "active_named", pick_same(calls, "directive_channel"))
        self.keep("directive_notice", "active_nothing_held", self.notice_to(d6, ACTIVATION, NEWHIRE))
        failed = dict.fromkeys([ERIK, *others][: p.undelivered], p.delivery_error)
        self.deliver(d6, ACTIVATION, failed={**failed, EXPORT_CHANNEL: "not_in_channel"}, pending=(NEWHIRE,))
        self.keep("directive_progress", "undelivered", self.refresh_progress(d6))

        # More directives, up to `directives`: notices, scheduled ones, and some lifted at once.
        for i in range(p.directives - 6):
            if i % 3 == 0:
                self.issue(self.draft([QUORUM], "citizenship:FR;IR", NOTICE), progress=False)
            elif i % 3 == 1:
                later = self.now + timedelta(days=90 + i)
                self.issue(self.draft(restricted, "non-us-persons", effective_at=later), progress=False)
            else:
                self.lift(self.issue(self.draft([STRICT], f"users:{BOB};{NEWHIRE}"), progress=False))

        with self.db.read() as session:
            listed = [d.as_json() for d in directives.list_directives(session)]
        assert len(listed) == p.directives
        self.keep("directive_list", "directives", {"directives": listed})
        # As `/directive report D1` does, once all of them are issued.
        self.keep("directive_report", "lifted", {"report": directives.report(self.ctx, d1).as_json()})
        self.keep("directive_report", "undelivered", {"report": directives.report(self.ctx, d6).as_json()})
        # Last, a draft (reviewed, never issued, so listed nowhere above): named people, most of them in
        # neither the directory nor Slack.
        strangers = [f"U0NOBODY{n:02d}" for n in range(25)]
        _, view = self.review(self.draft(restricted, "users:" + ";".join([CAROL, *strangers])))
        self.keep("directive_confirm", "named_users", view)
        about_directive = {
            d1: (
                "directive_channel:active_restricted",
                "directive_channel:lifted",
                "directive_report:lifted",
            ),
            d3: ("directive_channel:active_notice_only",),
            d4: ("directive_channel:warning", "directive_channel:active_everyone"),
            d5: ("directive_channel:withdrawn",),
            d6: ("directive_channel:active_named", "directive_report:undelivered"),
        }
        for directive_id, keys in about_directive.items():
            affected = self.affected_by(directive_id)
            for key in keys:
                self.samples[key] = replace(self.samples[key], affected=affected)

    def audit_checkpoints(self) -> None:
        """The day's first scheduler run records the daily checkpoint of everything the flows audited;
        then someone runs `accessbot audit checkpoint` (bot/cli/audit.py)."""
        with self.recording() as calls:
            assert audit_chain.daily_checkpoint(self.ctx) == 1
        self.keep("audit_checkpoint", "daily", pick(calls, "audit_checkpoint"))
        with self.recording() as calls:
            audit_chain.checkpoint(self.ctx, actor="cli:auditor")
        self.keep("audit_checkpoint", "on_demand", pick(calls, "audit_checkpoint"))

    def licence_flows(self) -> None:
        """Export compliance records licences for Carol (French) and Erik (German) as the `/licence` form
        does (bot/slack/licences.py), one of them not in effect yet, revokes one, and lists them all
        and Carol's. In the worst case each licence names every available model and many countries."""
        p, catalog = self.profile, self.ctx.catalog
        officer = COMPLIANCE[0]
        today = utc_day(self.now)
        available = [s for s, m in catalog.models.items() if m.status == "available"]
        models = available if p.models > 50 else [FRONTIER, STANDARD]
        countries = ("FR", "DE", *COUNTRIES) if p.models > 50 else ("FR", "DE")
        with self.db.read() as session:
            # As `/licence list` and `/licence` (the form) do.
            self.keep(
                "licence_list", "empty", licence_list_data(list_licences(session), holder=None, today=today)
            )
        self.keep("licence_modal", "form", licence_form_data(catalog))
        kinds = list(LicenceKind)
        for n in range(p.licences):
            starts = today + timedelta(days=30 if n == 1 else 0)
            fields = {
                "number": p.licence_number.format(n=n),
                "authority": p.licence_authority,
                "kind": kinds[n % len(kinds)].value,
                "holder": (CAROL, ERIK)[n % 2],
                "models": ";".join(models),
                "countries": ";".join(countries),
                "valid_from": starts.isoformat(),
                "valid_until": (today + timedelta(days=365)).isoformat(),
                "conditions": "No re-transfer outside the research team.",
            }
            change = record_licence(self.ctx, fields, actor=officer)
            if n == 0:
                with self.db.read() as session:
                    stored = find_licence(session, change.licence_id)
                assert stored is not None
                with self.recording() as calls:
                    self.renderer.reply(recorded_notice(stored, change.recheck))
                self.keep("notice", "licence_recorded", pick(calls, "notice"))
        change = revoke_licence(self.ctx, 1, "Superseded by a renewal.", actor=officer)
        with self.recording() as calls:
            self.renderer.reply(revoked_notice(change.licence_id, change.recheck))
        self.keep("notice", "licence_revoked", pick(calls, "notice"))
        with self.db.read() as session:
            everyone = list_licences(session)
            carol = list_licences(session, holder=CAROL)
        assert len(everyone) == p.licences
        self.keep("licence_list", "licences", licence_list_data(everyone, holder=None, today=today))
        self.keep("licence_list", "one_holder", licence_list_data(carol, holder=CAROL, today=today))


def build_samples(path: Path, profile: Profile, templates_dir: Path = TEMPLATES_DIR) -> dict[str, Sample]:
    """Every template variant, rendered by the services from `profile`'s text and list sizes."""
    world = World(path, profile, templates_dir)
    try:
        return world.build()
    finally:
        world.close()
