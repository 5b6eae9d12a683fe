"""The directive evidence page without a browser: every section is there with the facts a reader needs,
every stored value arrives as text (names, notice text and Slack's errors are user data), and the page
needs nothing from outside itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bot.present import directive_records as records
from bot.present.directive_page import evidence_page
from bot.render import PageRenderer
from tests.support.pages import read_page

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
SCRIPT_NAME = "<script>alert(1)</script>"
NOTICE = 'Line one </style><script>alert(2)</script> & "quoted"\nLine two <!-- not a comment -->'
SLACK_ERROR = "not_in_channel <img src=x onerror=alert(3)>"
NAMES = {"mythos-5": "Mythos 5", "fable-5": "Fable 5"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def directive(**changes: object) -> records.ReportedDirective:
    fields: dict[str, object] = {
        "id": 1,
        "reference": "EO-2026-117 <ref>",
        "title": "Frontier models barred </title><b>bold</b>",
        "authority": "US Department of Commerce & Co",
        "status": "lifted",
        "models": ["mythos-5", "retired-1"],
        "population": "non-us-persons",
        "action": "suspend",
        "effective_at": at(0),
        "issued_by": "cli:dana",
        "issued_at": at(0),
        "activated_at": at(0),
        "lifted_by": "U0ADMIN01",
        "lifted_at": at(90),
        "notice": NOTICE,
        "lift_reason": "Order rescinded <now>",
    }
    fields.update(changes)
    return records.ReportedDirective.model_validate(fields)


def summary(**counts: int) -> records.ReportSummary:
    base = dict.fromkeys(
        ("people", "grants_suspended", "grants_reinstated", "requests_stopped", "requests_denied"), 0
    )
    return records.ReportSummary(**{**base, "notices_failed": 0, **counts})


def suspended(
    grant_id: int, *, reinstated: bool, status_now: str, held_by: list[str] | None = None
) -> records.ReportGrant:
    """A mythos-5 grant suspended when D1 took effect and let go when it was lifted, 90 minutes on."""
    return records.ReportGrant.model_validate(
        {
            "grant_id": grant_id,
            "model": "mythos-5",
            "suspended_at": at(0),
            "released_at": at(90),
            "reinstated": reinstated,
            "status_now": status_now,
            "held_by": held_by or [],
        }
    )


def undelivered(
    channel: str, phase: str, status: str, error: str | None, *, minutes: float
) -> records.ReportChannel:
    """A channel post of D1 queued `minutes` after it took effect and not delivered (yet)."""
    return records.ReportChannel.model_validate(
        {
            "channel": channel,
            "phase": phase,
            "status": status,
            "error": error,
            "queued_at": at(minutes),
            "sent_at": None,
        }
    )


def lifted_report() -> records.DirectiveReport:
    boris = records.ReportPerson(
        slack_user_id="U0BORIS01",
        name=SCRIPT_NAME,
        grants=[
            suspended(3, reinstated=True, status_now="active"),
        ],
        requests=[],
        notices=[
            records.ReportNotice(phase="active", status="sent", error=None, queued_at=at(0), sent_at=at(0.5)),
            records.ReportNotice(phase="lifted", status="sent", error=None, queued_at=at(90), sent_at=at(91)),
        ],
    )
    eve = records.ReportPerson(
        slack_user_id="U0EVE0001",
        name=None,
        grants=[
            suspended(4, reinstated=False, status_now="suspended", held_by=["directive:D2"]),
        ],
        requests=[
            records.ReportRequest(request_id=7, model="mythos-5", what="stopped while pending", at=at(0))
        ],
        notices=[
            records.ReportNotice(
                phase="active", status="failed", error="account_deactivated", queued_at=at(0), sent_at=None
            ),
        ],
    )
    return records.DirectiveReport(
        directive=directive(),
        people=[boris, eve],
        channels=[
            undelivered("C0MYTHOS5", "active", "failed", SLACK_ERROR, minutes=0),
            undelivered("C0AIMODELS", "lifted", "pending", None, minutes=90),
        ],
        summary=summary(
            people=2, grants_suspended=2, grants_reinstated=1, requests_stopped=1, notices_failed=2
        ),
    )


def render(report: records.DirectiveReport) -> str:
    data = evidence_page(report, model_names=NAMES, generated_at=at(120), version="9.8.7")
    return PageRenderer(TEMPLATES).render("directive_report", **data)


def test_every_section_states_its_facts_with_utc_times() -> None:
    page = read_page(render(lifted_report()))
    order = page.sections["order"]
    for fact in (
        "Frontier models barred </title><b>bold</b>",
        "US Department of Commerce & Co",
        "EO-2026-117 <ref>",
        "suspend: covered people lose access",
        "Mythos 5 (mythos-5), retired-1",
        "non-US persons",
        "[non-us-persons]",
        "lifted",
        NOTICE.replace("\n", " "),
    ):
        assert fact in order, fact
    timeline = page.sections["timeline"]
    assert "Issued 2026-12-01T09:00:00Z by cli:dana" in timeline
    assert "Took effect 2026-12-01T09:00:00Z" in timeline
    assert "Lifted 2026-12-01T10:30:00Z lifted by U0ADMIN01; reason: Order rescinded <now>" in timeline
    assert "People affected 2 Grants suspended 2 Grants reinstated 1" in page.sections["summary"]
    assert "Notices to people 3: 2 delivered, 1 not delivered, 0 on the way" in page.sections["summary"]
    assert "Channel posts 2: 0 delivered, 1 not delivered, 1 on the way" in page.sections["summary"]

    people = page.sections["people"]
    assert (
        f"{SCRIPT_NAME} U0BORIS01 2026-12-01T09:00:00Z G3 Mythos 5 (mythos-5): suspended "
        "2026-12-01T10:30:00Z G3 Mythos 5 (mythos-5): reinstated "
        "taking effect notice: delivered 2026-12-01T09:00:30Z lifting notice: delivered 2026-12-01T10:31:00Z"
    ) in people
    assert "(not in the directory) U0EVE0001" in people
    assert "R7 Mythos 5 (mythos-5): stopped while pending" in people
    assert "not reinstated: still suspended (held by directive:D2)" in people
    assert "taking effect notice: not delivered: account_deactivated" in people

    grants = page.sections["grants"]
    assert "G3 <script>alert(1)</script> (U0BORIS01) Mythos 5 (mythos-5) 2026-12-01T09:00:00Z" in grants
    assert "2026-12-01T10:30:00Z reinstated" in grants
    notices = page.sections["notices"]
    assert "taking effect 2026-12-01T09:00:00Z 2026-12-01T09:00:30Z delivered" in notices
    assert "account_deactivated" in notices
    channels = page.sections["channels"]
    assert f"C0MYTHOS5 taking effect 2026-12-01T09:00:00Z — not delivered: {SLACK_ERROR}" in channels
    assert "C0AIMODELS lifting 2026-12-01T10:30:00Z — on the way" in channels
    assert "Generated 2026-12-01T11:00:00Z by AccessBot 9.8.7" in page.text


def test_stored_text_is_escaped_and_the_page_needs_nothing_from_outside() -> None:
    html = render(lifted_report())
    page = read_page(html)
    names = [tag for tag, _ in page.tags]
    assert "script" not in names and "img" not in names and "b" not in names
    assert names.count("style") == 1 and names.count("html") == 1
    # Nothing to fetch: no element points anywhere, and the page's own policy forbids loading anything.
    assert not [(t, a) for t, a in page.tags if {"src", "href", "srcset", "action"} & a.keys()]
    policy = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv"))
    assert policy == "default-src 'none'; style-src 'unsafe-inline'"
    assert "</style><script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "@media print" in page.styles and "<" not in page.styles
    times = [a["datetime"] for t, a in page.tags if t == "time"]
    assert "2026-12-01T09:00:00.123456+00:00" in times  # the full instant, as --json has it
    assert all(t.endswith("+00:00") for t in times)


def test_a_scheduled_directive_nobody_was_touched_by_yet() -> None:
    report = records.DirectiveReport(
        directive=directive(
            status="scheduled",
            activated_at=None,
            lifted_at=None,
            lifted_by=None,
            lift_reason=None,
            effective_at=at(60 * 24),
            action="notice",
            population="citizenship:IR;KP",
        ),
        people=[],
        channels=[],
        summary=summary(),
    )
    page = read_page(render(report))
    assert "scheduled (not in force yet)" in page.sections["order"]
    assert "citizens of IR, KP" in page.sections["order"]
    assert "notice: announced only" in page.sections["order"]
    timeline = page.sections["timeline"]
    assert "Effective from 2026-12-02T09:00:00Z" in timeline
    assert "Took effect — not yet" in timeline and "Lifted — not lifted" in timeline
    assert "Nobody was affected." in page.sections["people"]
    assert "No grant was suspended." in page.sections["grants"]
    assert "No notice was sent to anyone." in page.sections["notices"]
    assert "Nothing was posted to a channel." in page.sections["channels"]


def test_times_in_other_zones_are_shown_in_utc() -> None:
    report = lifted_report()
    eastern = datetime(2026, 11, 30, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    data = evidence_page(report, model_names=NAMES, generated_at=eastern, version="1")
    assert data["generated_at"].shown == "2026-12-01T04:00:00Z"


def test_bidirectional_controls_in_stored_text_are_written_out_not_obeyed() -> None:
    html = PageRenderer(TEMPLATES).env.from_string("<p>{{ name }}</p>").render(name="Eve\u202eneddih\u2066x")
    assert html == "<p>Eve[U+202E]neddih[U+2066]x</p>"
    assert "\u202e" not in render(lifted_report())
