"""Data for every template in templates/, produced by the real services.

A `World` is a small AccessBot installation: a catalog, a directory and a SQLite database. Its flows call
the same service functions the Slack listeners call (submit, decide, cancel, expire, revoke, the status
and App Home queries...) and record every template the services render, with the exact data they pass.
Where the data is put together inside a listener (help, models, status, home, the deny form), the flow
repeats that listener's one-line call and says where it comes from.

A `Profile` decides what people and admins typed (justifications, reasons, model, provider and step
names) and how long the lists are, so the same flows give realistic, worst-case and injection samples.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel, select

from bot.config import PROJECT_ROOT
from bot.domain.catalog import Catalog, Chain, Model, Policy, StepRule
from bot.domain.people import Person
from bot.render import Renderer
from bot.services import approvals, grants, requests
from bot.services.context import Context
from bot.services.queries import catalog_entries, home_data, status_data
from bot.slack.responder import Responder
from bot.slack.surfaces import Surfaces
from bot.store import directory
from bot.store import requests as queries
from bot.store.db import Database
from bot.store.tables import AccessGrant, AccessRequest

TEMPLATES_DIR = PROJECT_ROOT / "templates"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

# What a hostile or careless person types, in every field that reaches a message.
INJECTION = "<!channel> <@U1> <https://x|y> &amp;"

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
    ),
    "request_update": (
        "filed",
        "step_approved",
        "approved",
        "denied_by_person",
        "denied_by_policy",
        "expired",
        "cancelled",
    ),
    "request_result": ("filed", "denied", "no_step"),
    "grant_update": ("revoked", "expired"),
    "notice": ("approved_step", "cancelled", "refused", "revoked", "relinquished"),
    "help": ("member", "admin"),
    "models": ("catalog",),
    "status": ("busy", "not_in_directory"),
    "home": ("busy", "not_in_directory"),
    "request_modal": ("blank", "initial_model"),
    "deny_modal": ("deny",),
}

# approval_request variants in which the viewer can still decide.
BUTTON_VARIANTS = frozenset({"buttons", "partial_quorum", "via_admin"})


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

    def name_of(self, n: int) -> str:
        return self.model_name.format(n=n)

    def with_injection(self, field: str) -> Profile:
        value = INJECTION + (" {n}" if field == "model_name" else "")
        return replace(self, **{field: value})


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
)

# As much as the bot accepts: 3,000-character justifications and reasons (justification_max_chars,
# MAX_REASON), 60-character model and provider names, 100-character step names and 64-character slugs
# (workflows.py); one model more than a select can list; quorum 10 of 30 approvers; 50 of everything.
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
)

# User-controlled fields, and the templates that show each one in mrkdwn.
INJECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "justification": ("approval_request",),
    "reason": ("approval_request", "request_update", "grant_update"),
    "model_name": (
        "approval_request",
        "request_update",
        "request_result",
        "grant_update",
        "models",
        "status",
        "home",
        "notice",
    ),
    "provider": ("models", "home"),
    "step_name": ("approval_request", "request_update", "request_result", "models", "status", "home"),
    "typed_model": ("notice",),
}


@dataclass(frozen=True)
class Sample:
    template: str
    variant: str
    data: dict[str, Any]

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


def owner(i: int) -> str:
    return f"U0OWN{i:02d}"


def admin(i: int) -> str:
    return f"U0ADM{i:02d}"


def report(i: int) -> str:
    return f"U0REP{i:02d}"


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
    models = {
        slug: Model(
            slug=slug,
            name=profile.name_of(n),
            provider=profile.provider,
            status=status,
            default_duration=timedelta(days=30),
            max_duration=timedelta(days=90),
            chain=chain,
            us_persons_only=us_only,
            description="A large language model.",
        )
        for n, (slug, chain, status, us_only) in enumerate(fixed + fillers)
    }
    return Catalog(models=models, chains=chains, policy=Policy(contact="#ai-access-help"))


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
        self.ctx = Context(
            db=self.db, catalog=build_catalog(profile), renderer=self.renderer, clock=self.clock
        )
        self.samples: dict[str, Sample] = {}
        with self.db.uow() as uow:
            directory.upsert_people(uow.session, build_people(profile))
            uow.commit()

    def clock(self) -> datetime:
        return self.now

    def close(self) -> None:
        self.db.dispose()

    # -- helpers ----------------------------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        calls: Calls = []
        start = len(self.renderer.calls)
        yield calls
        calls.extend(self.renderer.calls[start:])

    def keep(self, template: str, variant: str, data: dict[str, Any]) -> None:
        assert variant in TEMPLATE_VARIANTS[template], f"{template}: unknown variant {variant}"
        self.samples[f"{template}:{variant}"] = Sample(template, variant, data)

    def submit(self, requester: str, model: str) -> int:
        outcome = requests.submit_request(
            self.ctx,
            requester_id=requester,
            model_slug=model,
            duration=None,
            justification=self.profile.justification,
        )
        assert outcome.subject_id is not None
        return outcome.subject_id

    def decide(
        self, request_id: int, approver: str, verdict: str = "approve", reason: str | None = None
    ) -> None:
        position = self.request(request_id).current_step or 0
        approvals.decide(
            self.ctx,
            request_id=request_id,
            position=position,
            approver_id=approver,
            verdict=verdict,
            reason=reason,
        )

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
        self.grant_endings(frontier)
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
        self.keep("approval_request", "cancelled", pick(calls, "approval_request", about(rid, MANAGER)))
        self.keep("notice", "cancelled", pick(calls, "notice"))
        assert outcome.status == "cancelled"

        # `/access request <what they typed> …`; the listener turns the Refusal into a notice
        # (bot/slack/responder.py).
        def file_unknown_model() -> dict[str, Any]:
            return requests.submit_request(
                self.ctx,
                requester_id=ALICE,
                model_slug=self.profile.typed_model,
                duration=None,
                justification=self.profile.justification,
            ).message

        responder = Responder(self.ctx, workers=1)
        try:
            with self.recording() as calls:
                answer = responder.attempt(file_unknown_model)
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
        with self.db.read() as session:
            # As `/access status`, `/access models` and `/access help` do (bot/slack/commands.py).
            for variant, user in (("busy", DANA), ("not_in_directory", OUTSIDER)):
                self.keep("status", variant, status_data(ctx, session, user))
                self.keep("home", variant, home_data(ctx, session, user))
            self.keep("models", "catalog", {"models": catalog_entries(ctx, session)})
            example = next(iter(sorted(ctx.catalog.models)), "model-name")
            for variant, user in (("member", ALICE), ("admin", admin(0))):
                is_admin = directory.has_role(session, user, ctx.catalog.policy.admin_role)
                self.keep("help", variant, {"is_admin": is_admin, "example_model": example})
        responder = Responder(ctx, workers=1)
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
        request_id, _ = approvals.parse_button_value(value)
        assert request_id == frontier
        self.keep("deny_modal", "deny", {"button_value": value, "request_label": f"R{request_id}"})

    def grant_endings(self, frontier: int) -> None:
        with self.recording() as calls:
            grants.revoke_grant(
                self.ctx,
                admin_id=admin(0),
                grant_id=self.grant_of(frontier).id or 0,
                reason=self.profile.reason,
            )
        self.keep("grant_update", "revoked", pick(calls, "grant_update"))
        self.keep("notice", "revoked", pick(calls, "notice"))
        quorum_request = next(
            r.id for r in self.requests_of(ALICE) if r.model == QUORUM and r.status == "approved"
        )
        with self.recording() as calls:
            grants.relinquish_grant(
                self.ctx, holder_id=ALICE, grant_id=self.grant_of(quorum_request or 0).id or 0
            )
        self.keep("notice", "relinquished", pick(calls, "notice"))
        self.now += timedelta(days=365)
        with self.recording() as calls:
            grants.expire_due_grants(self.ctx)
        expired = [data for name, data in calls if name == "grant_update"]
        assert expired, "no grant expired"
        self.keep("grant_update", "expired", expired[0])


def build_samples(path: Path, profile: Profile, templates_dir: Path = TEMPLATES_DIR) -> dict[str, Sample]:
    """Every template variant, rendered by the services from `profile`'s text and list sizes."""
    world = World(path, profile, templates_dir)
    try:
        return world.build()
    finally:
        world.close()
