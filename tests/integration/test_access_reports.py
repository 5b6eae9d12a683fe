"""Point-in-time access reports answered from recorded history: a history with approvals, directive
suspensions and lifts, a licence and its revocation, a hold of the entitlement rule, expiry,
revocation and departure, built on a test clock; the report is then asked about every instant at which
something changed, just before it, and between changes, and must give what was true then (checked
against the state as it stood at each of those instants), not today's state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.domain.access_history import IntervalEnd
from bot.domain.catalog import Catalog
from bot.domain.status import GrantStatus
from bot.services import access_reports, directives, grants, requests
from bot.services.context import Context, Refusal
from bot.services.directory import import_directory
from bot.services.licences import import_licences, lapse_licences, record_licence, revoke_licence
from bot.services.recheck import run_recheck
from bot.store.db import Database
from bot.store.tables import AccessGrant
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES
from tests.support.history import START, Clock, approve_fully, directory_with, issue
from tests.support.seed import DIRECTORY

ALICE, BORIS, PETE, UMA = "U0ALICE01", "U0BORIS01", "U0PETE001", "U0UMA0001"
ADMIN, CARLA = "U0ADMIN01", "U0CARLA01"
MODELS = ("mythos-5", "fable-5", "lumen-3")
WHY = "Evaluating summarisation quality for the quarterly research report"
TICK = timedelta(microseconds=1)


@dataclass
class History:
    """What could be used at each instant, read from the state as it stood then."""

    ctx: Context
    clock: Clock
    moments: dict[datetime, dict[str, set[str]]] = field(default_factory=dict)
    changes: list[datetime] = field(default_factory=list)
    marks: dict[str, datetime] = field(default_factory=dict)  # when named changes happened

    def observe(self) -> None:
        """Record who holds an active, unexpired grant of each model now."""
        now = self.clock()
        with self.ctx.read() as session:
            rows = session.exec(
                select(AccessGrant.model, AccessGrant.user_id).where(
                    AccessGrant.status == GrantStatus.ACTIVE, col(AccessGrant.expires_at) > now
                )
            ).all()
        state: dict[str, set[str]] = {model: set() for model in MODELS}
        for model, user in rows:
            state[model].add(user)
        self.moments[now] = state

    def step(self, delta: timedelta = timedelta(hours=1)) -> None:
        """Move the clock on, observe the state just before the next change, which happens at the new
        instant (observed by `changed`)."""
        self.clock.advance(delta - TICK)
        self.observe()
        self.clock.advance(TICK)

    def changed(self, *, visible: bool = True) -> None:
        """Observe the state at the instant of a change; `visible` when it changed who could use what
        (a directive a licence exempts everyone from changes nothing)."""
        if visible:
            self.changes.append(self.clock())
        self.observe()


def grant_to(ctx: Context, user: str, model: str, duration: timedelta | None = None) -> int:
    filed = requests.submit_request(
        ctx, requester_id=user, model_slug=model, duration=duration, justification=WHY
    )
    assert filed.subject_id is not None, filed.reply
    approve_fully(ctx, filed.subject_id)
    with ctx.read() as session:
        grant = session.exec(select(AccessGrant).where(AccessGrant.request_id == filed.subject_id)).one()
    return grant.id or 0


@pytest.fixture
def history(db: Database, tmp_path: Path) -> History:
    clock = Clock(START)
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"), clock=clock)
    import_directory(ctx, DIRECTORY, actor="test")
    h = History(ctx, clock)
    h.observe()
    return h


def build(history: History, tmp_path: Path) -> dict[str, int]:
    """The history every test reads: returns the grant ids by name."""
    ctx, ids = history.ctx, {}
    history.step()
    ids["alice"] = grant_to(ctx, ALICE, "mythos-5")
    history.changed()
    history.step()
    ids["boris"] = grant_to(ctx, BORIS, "mythos-5")
    history.changed()
    history.step()
    ids["uma"] = grant_to(ctx, UMA, "lumen-3", timedelta(hours=7, minutes=30))
    history.changed()
    history.step()
    ids["pete"] = grant_to(ctx, PETE, "fable-5")
    history.changed()
    history.step()
    ids["d1"] = issue(ctx, "suspend", "non-us-persons")  # Boris's grant is suspended
    history.changed()
    history.step()
    directives.lift(ctx, actor=ADMIN, directive_id=ids["d1"], reason="Order withdrawn.")
    history.changed()
    history.step()
    # Pete's US-person status goes missing from the directory: fable-5 is for US persons only.
    import_directory(ctx, directory_with(tmp_path, "unknown.csv", us_person={PETE: ""}), actor="test")
    history.changed()
    history.step()
    licence = record_licence(
        ctx,
        {
            "number": "D-1234567",
            "authority": "BIS",
            "kind": "deemed-export",
            "holder": BORIS,
            "models": "mythos-5",
            "countries": "DE",
            "valid_from": ctx.clock().date().isoformat(),
            "valid_until": (ctx.clock().date() + timedelta(days=365)).isoformat(),
            "conditions": "",
        },
        actor=CARLA,
    )
    ids["licence"] = licence.licence_id
    history.changed(visible=False)
    history.step()
    ids["d2"] = issue(ctx, "require-licence", "non-us-persons")  # Boris keeps his grant on the licence
    history.changed(visible=False)
    history.step()
    import_directory(ctx, DIRECTORY, actor="test")  # Pete's status is back: his grant comes back
    history.changed()
    # Uma's grant reaches its end (7.5 hours after it was made); the expiry job runs an hour later.
    history.step(timedelta(minutes=30))
    history.changed()
    history.step()
    assert grants.expire_due_grants(ctx) == 1
    history.changed(visible=False)
    history.step()
    history.marks["licence revoked"] = ctx.clock()
    revoke_licence(ctx, ids["licence"], "Licence withdrawn by the authority.", actor=CARLA)
    history.changed()
    history.step()
    directives.lift(ctx, actor=ADMIN, directive_id=ids["d2"], reason="Order withdrawn.")
    history.changed()
    history.step()
    grants.revoke_grant(ctx, admin_id=ADMIN, grant_id=ids["alice"], reason="Project ended.")
    history.changed()
    history.step()
    import_directory(ctx, directory_with(tmp_path, "left.csv", without=BORIS), actor="test", full=True)
    history.changed()
    history.step()
    history.observe()
    return ids


def who(ctx: Context, model: str, at: datetime) -> set[str]:
    return {h.grant.user_id for h in access_reports.access_at(ctx, model, at).holders}


def test_the_report_gives_at_every_instant_what_was_true_then(history: History, tmp_path: Path) -> None:
    build(history, tmp_path)
    ctx = history.ctx
    # Each change was real: the state differs just before it and at it (else this test proves little).
    for at in history.changes:
        assert history.moments[at - TICK] != history.moments[at], at
    for at, state in sorted(history.moments.items()):
        for model in MODELS:
            assert who(ctx, model, at) == state[model], (model, at)


def test_uma_could_use_her_grant_until_its_end_whenever_the_expiry_job_ran(
    history: History, tmp_path: Path
) -> None:
    ids = build(history, tmp_path)
    ctx = history.ctx
    with ctx.read() as session:
        grant = session.get(AccessGrant, ids["uma"])
    assert grant is not None and grant.ended_at is not None and grant.ended_at > grant.expires_at
    assert who(ctx, "lumen-3", grant.starts_at) == {UMA}
    assert who(ctx, "lumen-3", grant.starts_at - TICK) == set()
    assert who(ctx, "lumen-3", grant.expires_at - TICK) == {UMA}
    assert who(ctx, "lumen-3", grant.expires_at) == set()
    assert who(ctx, "lumen-3", grant.ended_at - TICK) == set()


def test_the_basis_names_the_approvers_and_the_licence_relied_on(history: History, tmp_path: Path) -> None:
    ids = build(history, tmp_path)
    ctx = history.ctx
    with ctx.read() as session:
        boris = session.get(AccessGrant, ids["boris"])
    assert boris is not None
    # Between the require-licence directive and the licence's revocation, Boris holds on the licence.
    report = access_reports.access_at(ctx, "mythos-5", history.marks["licence revoked"] - TICK)
    (holder,) = [h for h in report.holders if h.grant.user_id == BORIS]
    assert [lc.number for lc in holder.licences] == ["D-1234567"]
    assert [(a.step, a.verdict) for a in holder.approvals] == [
        ("Manager", "approve"),
        ("Model owner", "approve"),
        ("Export compliance", "approve"),
    ]
    assert all(a.decided_at <= boris.starts_at for a in holder.approvals)
    # Before the licence was recorded, the same grant had no licence to rely on.
    early = access_reports.access_at(ctx, "mythos-5", boris.starts_at)
    (holder,) = [h for h in early.holders if h.grant.user_id == BORIS]
    assert holder.licences == []


def test_a_person_window_lists_each_interval_and_what_ended_it(history: History, tmp_path: Path) -> None:
    ids = build(history, tmp_path)
    ctx = history.ctx
    window = access_reports.person_access(ctx, BORIS, START, None)
    spans = [(p.grant.model, p.grant.id, p.interval.ended_by) for p in window.periods]
    assert spans == [
        ("mythos-5", ids["boris"], IntervalEnd.SUSPENDED),  # D1
        ("mythos-5", ids["boris"], IntervalEnd.SUSPENDED),  # the licence revoked under D2
        ("mythos-5", ids["boris"], IntervalEnd.REVOKED),  # left the company
    ]
    # The intervals are exactly the instants at which the report says he could use it.
    for at, state in history.moments.items():
        inside = any(p.interval.start <= at < p.interval.end for p in window.periods)
        assert inside == (BORIS in state["mythos-5"]), at
    # A window that starts and ends inside one interval is clipped to it, and says use went on.
    first = window.periods[0].interval
    middle = first.start + (first.end - first.start) / 2
    clipped = access_reports.person_access(ctx, BORIS, first.start + TICK, middle)
    assert [(p.interval.start, p.interval.end, p.interval.ended_by) for p in clipped.periods] == [
        (first.start + TICK, middle, IntervalEnd.WINDOW_END)
    ]
    uma = access_reports.person_access(ctx, UMA, START, None)
    assert [(p.grant.model, p.interval.ended_by) for p in uma.periods] == [("lumen-3", IntervalEnd.EXPIRED)]


def test_questions_the_history_cannot_answer_are_refused(history: History) -> None:
    ctx = history.ctx
    with pytest.raises(Refusal, match="in the future"):
        access_reports.access_at(ctx, "mythos-5", ctx.clock() + timedelta(seconds=1))
    with pytest.raises(Refusal, match="no model"):
        access_reports.access_at(ctx, "nonesuch-9", ctx.clock())
    with pytest.raises(Refusal, match="must end after it starts"):
        access_reports.person_access(ctx, ALICE, ctx.clock(), ctx.clock())
    with pytest.raises(Refusal, match="not in the directory"):
        access_reports.person_access(ctx, "U0NOBODY1", START - timedelta(days=1), None)
    # Model slugs are matched as the catalog writes them.
    assert access_reports.access_at(ctx, "MYTHOS-5", ctx.clock()).model == "mythos-5"


# -- what gateways enforced before it was recorded, and terms that changed later --------------------------


@pytest.fixture
def ctx(history: History) -> Context:
    return history.ctx


def lic_fields(holder: str, valid_from: str, valid_until: str, number: str = "EX-1") -> dict[str, str | None]:
    return {
        "number": number, "authority": "BIS", "kind": "deemed-export", "holder": holder,
        "models": "mythos-5", "countries": "DE", "valid_from": valid_from, "valid_until": valid_until,
        "conditions": "",
    }  # fmt: skip


def test_a_scheduled_directive_counts_from_its_effective_time_even_if_applied_late(ctx: Context) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    grant_to(ctx, BORIS, "mythos-5")
    clock.advance(timedelta(hours=1))
    effective = clock() + timedelta(hours=1)
    issue(ctx, "suspend", "non-us-persons", effective_at=effective)
    clock.advance(timedelta(hours=4))  # the scheduler was down; it applies the directive 3 hours late
    assert directives.activate_due(ctx) == 1
    assert who(ctx, "mythos-5", effective - TICK) == {BORIS}
    assert who(ctx, "mythos-5", effective) == set()
    assert who(ctx, "mythos-5", effective + timedelta(minutes=30)) == set()


def test_a_lapsed_licence_stops_use_from_midnight_even_if_found_later(ctx: Context) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    grant_to(ctx, BORIS, "mythos-5", timedelta(days=20))
    today = clock().date()
    last_day = today + timedelta(days=2)
    record_licence(ctx, lic_fields(BORIS, today.isoformat(), last_day.isoformat()), actor=CARLA)
    issue(ctx, "require-licence", "non-us-persons")
    midnight = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC)
    clock.now = midnight + timedelta(hours=6)  # the lapse job runs six hours after the licence lapsed
    assert lapse_licences(ctx) == 1
    report = access_reports.access_at(ctx, "mythos-5", midnight - TICK)
    (holder,) = report.holders
    assert [lc.number for lc in holder.licences] == ["EX-1"]
    assert who(ctx, "mythos-5", midnight) == set()


def test_licence_terms_are_as_recorded_then_and_only_while_a_directive_required_one(
    ctx: Context, tmp_path: Path
) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    grant_to(ctx, BORIS, "mythos-5", timedelta(days=20))
    today = clock().date()
    record_licence(
        ctx, lic_fields(BORIS, today.isoformat(), (today + timedelta(days=300)).isoformat()), actor=CARLA
    )
    before_directive = clock.advance(timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    directive = issue(ctx, "require-licence", "non-us-persons")
    during = clock.advance(timedelta(hours=1))

    def relied(at: datetime) -> list[tuple[str, str]]:
        (holder,) = access_reports.access_at(ctx, "mythos-5", at).holders
        return [(lc.number, lc.valid_from.isoformat()) for lc in holder.licences]

    assert relied(before_directive) == []  # nothing required a licence yet
    assert relied(during) == [("EX-1", today.isoformat())]
    # A re-import moves the licence's first day and gives it to someone else: the answer about `during`
    # stays as it was recorded then.
    clock.advance(timedelta(hours=1))
    csv_file = tmp_path / "licences.csv"
    later, until = (today + timedelta(days=2)).isoformat(), (today + timedelta(days=300)).isoformat()
    csv_file.write_text(
        "number,authority,kind,holder,models,countries,valid_from,valid_until,conditions\n"
        f"EX-1,BIS,deemed-export,U0EVE0001,mythos-5,DE;FR,{later},{until},\n",
        encoding="utf-8",
    )
    import_licences(ctx, csv_file, actor=CARLA)
    assert relied(during) == [("EX-1", today.isoformat())]
    clock.advance(timedelta(hours=1))
    directives.lift(ctx, actor=ADMIN, directive_id=directive, reason="Order withdrawn.")
    assert relied(clock.advance(timedelta(hours=1))) == []  # lifted: no licence is needed


def test_only_licences_that_covered_the_holder_then_are_their_basis(ctx: Context, tmp_path: Path) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    grant_to(ctx, BORIS, "mythos-5", timedelta(days=20))  # a citizen of Germany, working there
    grant_to(ctx, ALICE, "mythos-5", timedelta(days=20))  # a US person
    today, until = clock().date().isoformat(), (clock().date() + timedelta(days=300)).isoformat()
    # Boris holds one licence naming France only (not an export his access would be) and one naming
    # Germany; Alice holds one too, but a directive on non-US persons never reached her.
    record_licence(ctx, {**lic_fields(BORIS, today, until, "EX-FR"), "countries": "FR"}, actor=CARLA)
    record_licence(ctx, lic_fields(BORIS, today, until, "EX-DE"), actor=CARLA)
    record_licence(ctx, lic_fields(ALICE, today, until, "EX-US"), actor=CARLA)
    issue(ctx, "require-licence", "non-us-persons")
    during = clock.advance(timedelta(hours=1))

    def basis(at: datetime) -> dict[str, list[str]]:
        holders = access_reports.access_at(ctx, "mythos-5", at).holders
        return {h.grant.user_id: [lc.number for lc in h.licences] for h in holders}

    assert basis(during) == {BORIS: ["EX-DE"], ALICE: []}
    # The directory later says Boris is a French citizen: France and Germany both, which neither
    # licence names alone, so the re-check suspends him. What he relied on before stays as it was then.
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(
        DIRECTORY.read_text(encoding="utf-8").replace(
            "U0BORIS01,boris@example.com,Boris Ivanov,maria@example.com,Research,DE,DE,no,",
            "U0BORIS01,boris@example.com,Boris Ivanov,maria@example.com,Research,DE,FR,no,",
        ),
        encoding="utf-8",
    )
    clock.advance(timedelta(hours=1))
    import_directory(ctx, corrected)
    assert basis(clock.advance(timedelta(hours=1))) == {ALICE: []}
    assert basis(during) == {BORIS: ["EX-DE"], ALICE: []}


def test_a_grant_of_a_model_taken_out_of_the_catalog_is_no_longer_usable(ctx: Context) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    grant_to(ctx, ALICE, "lumen-3")
    clock.advance(timedelta(hours=1))
    catalog = ctx.catalog
    without = replace(
        ctx,
        catalog=Catalog(
            {k: v for k, v in catalog.models.items() if k != "lumen-3"}, catalog.chains, catalog.policy
        ),
    )
    run_recheck(without, trigger="workflows loaded")
    assert who(ctx, "lumen-3", clock() - TICK) == {ALICE}
    assert who(ctx, "lumen-3", clock()) == set()
