"""The directive evidence page (`accessbot directive report --format html`): a directive's report worded
for a reader, as data for templates/directive_report.html. Everything is decided here (what each fact
is called, which times go with it, in what order); the template only lays it out, and escapes every
value, since names, notice text and Slack's error strings are user data.

Times are UTC, ISO 8601 to the second (`2026-12-01T09:00:00Z`), each also kept at full precision for the
page's `<time datetime>` attribute, as `--json` has it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain.directives import NOTICE, REQUIRE_LICENCE, SUSPEND, parse_population
from bot.domain.status import DirectivePhase, DirectiveStatus, GrantStatus, OutboxStatus
from bot.present.directive_records import (
    DirectiveReport,
    ReportChannel,
    ReportGrant,
    ReportNotice,
    ReportPerson,
)

PHASES = {
    DirectivePhase.WARNING: "advance warning",
    DirectivePhase.ACTIVATION: "taking effect",
    DirectivePhase.LIFTING: "lifting",
    DirectivePhase.WITHDRAWAL: "withdrawal",
}
ACTIONS = {
    SUSPEND: "suspend: covered people lose access to the models",
    REQUIRE_LICENCE: (
        "require-licence: covered people keep or get access only while an export licence covers them"
    ),
    NOTICE: "notice: announced only; nobody's access changes",
}
STATUSES = {
    DirectiveStatus.SCHEDULED: "scheduled (not in force yet)",
    DirectiveStatus.ACTIVE: "in force",
    DirectiveStatus.LIFTED: "lifted",
}


@dataclass(frozen=True)
class Moment:
    """A time as the page shows it (`shown`, to the second) and as its `<time datetime>` holds it."""

    iso: str
    shown: str


@dataclass(frozen=True)
class Fact:
    """One labelled line: a field of the order, or a step of its timeline (`at` None: no time)."""

    label: str
    value: str
    at: Moment | None = None


@dataclass(frozen=True)
class Event:
    """Something the directive did to one person, and when (None when the store has no time for it)."""

    at: Moment | None
    what: str


@dataclass(frozen=True)
class Delivery:
    """One notice: to whom (a person's name and Slack ID, or a channel), which announcement, when it was
    queued and delivered, and, when it was not, `outcome` saying why (Slack's error)."""

    to: str
    announcement: str
    queued: Moment
    delivered: Moment | None
    outcome: str
    failed: bool


@dataclass(frozen=True)
class PersonRow:
    """A person's row: who, what changed for them and when (oldest first), and what they were told
    (each notice, with its delivery time when it was delivered)."""

    name: str
    slack_user_id: str
    events: list[Event]
    told: list[Event]


@dataclass(frozen=True)
class GrantRow:
    """A grant the directive suspended and what became of it."""

    grant: str
    person: str
    model: str
    suspended: Moment
    released: Moment | None
    outcome: str


def moment(at: datetime) -> Moment:
    """`at` in UTC for the page."""
    utc = at.astimezone(UTC)
    return Moment(iso=utc.isoformat(), shown=utc.strftime("%Y-%m-%dT%H:%M:%SZ"))


def maybe(at: datetime | None) -> Moment | None:
    """`moment(at)`, or None for a time that has not come (or was never recorded)."""
    return None if at is None else moment(at)


def evidence_page(
    report: DirectiveReport, *, model_names: Mapping[str, str], generated_at: datetime, version: str
) -> dict[str, Any]:
    """Template data for templates/directive_report.html: `heading`, `order` and `timeline` (lists of
    Fact), `notice` (the order's text), `summary` (Fact list), `people` (PersonRow list), `grants`
    (GrantRow list), `notices` and `channels` (Delivery lists), `generated_at` (a Moment) and
    `version`. `model_names` maps slugs to display names (a slug the catalog no longer has is shown
    as it is)."""
    d = report.directive
    label = f"D{d.id}"

    def model(slug: str) -> str:
        name = model_names.get(slug)
        return f"{name} ({slug})" if name and name != slug else slug

    names = {p.slack_user_id: _who(p) for p in report.people}
    grants = [
        _grant_row(grant, names[person.slack_user_id], model)
        for person in report.people
        for grant in person.grants
    ]
    notices = [
        _delivery(names[person.slack_user_id], notice)
        for person in report.people
        for notice in person.notices
    ]
    channels = [_delivery(channel.channel, channel) for channel in report.channels]
    return {
        "heading": f"Directive {label}: {d.title}",
        "label": label,
        "order": [
            Fact("Title", d.title),
            Fact("Issuing authority", d.authority),
            Fact("Reference", d.reference),
            Fact("Action", ACTIONS.get(d.action, d.action)),
            Fact("Models", ", ".join(model(m) for m in d.models)),
            Fact("Population", _population(d.population)),
            Fact("Status", STATUSES.get(d.status, str(d.status))),
        ],
        "notice": d.notice,
        "timeline": _timeline(report),
        "summary": _summary(report, notices, channels),
        "people": [_person_row(p, model) for p in report.people],
        "grants": grants,
        "notices": notices,
        "channels": channels,
        "generated_at": moment(generated_at),
        "version": version,
    }


def _who(person: ReportPerson) -> str:
    return f"{person.name} ({person.slack_user_id})" if person.name else person.slack_user_id


def _population(text: str) -> str:
    try:
        described = parse_population(text).describe()
    except ValueError:  # stored by an older release in a form this one no longer reads: show it as is
        return text
    return f"{described} [{text}]"


def _timeline(report: DirectiveReport) -> list[Fact]:
    d = report.directive
    steps = [
        Fact("Issued", f"by {d.issued_by}", maybe(d.issued_at)),
        Fact("Effective from", "", moment(d.effective_at)),
    ]
    if d.activated_at is not None:
        steps.append(Fact("Took effect", "applied to grants, requests and notices", maybe(d.activated_at)))
    elif d.status == DirectiveStatus.SCHEDULED:
        steps.append(Fact("Took effect", "not yet"))
    if d.lifted_at is not None:
        how = "withdrawn before it took effect" if d.activated_at is None else "lifted"
        reason = f"; reason: {d.lift_reason}" if d.lift_reason else ""
        steps.append(Fact("Lifted", f"{how} by {d.lifted_by or 'unknown'}{reason}", maybe(d.lifted_at)))
    else:
        steps.append(Fact("Lifted", "not lifted"))
    return steps


def _summary(report: DirectiveReport, notices: list[Delivery], channels: list[Delivery]) -> list[Fact]:
    s = report.summary
    still = sum(
        1
        for p in report.people
        for g in p.grants
        if g.released_at is None and g.status_now == GrantStatus.SUSPENDED
    )
    return [
        Fact("People affected", str(s.people)),
        Fact("Grants suspended", str(s.grants_suspended)),
        Fact("Grants reinstated", str(s.grants_reinstated)),
        Fact("Grants this directive still holds suspended", str(still)),
        Fact("Requests stopped while pending", str(s.requests_stopped)),
        Fact("Requests denied when asked", str(s.requests_denied)),
        Fact("Notices to people", _counted(notices)),
        Fact("Channel posts", _counted(channels)),
    ]


def _counted(deliveries: list[Delivery]) -> str:
    delivered = sum(1 for d in deliveries if d.delivered is not None)
    failed = sum(1 for d in deliveries if d.failed)
    waiting = len(deliveries) - delivered - failed
    return f"{len(deliveries)}: {delivered} delivered, {failed} not delivered, {waiting} on the way"


def _person_row(person: ReportPerson, model: Callable[[str], str]) -> PersonRow:
    events: list[Event] = []
    for grant in person.grants:
        events.extend(_grant_events(grant, model))
    for request in person.requests:
        events.append(
            Event(maybe(request.at), f"R{request.request_id} {model(request.model)}: {request.what}")
        )
    told = [_told(notice) for notice in person.notices]
    return PersonRow(
        name=person.name or "(not in the directory)",
        slack_user_id=person.slack_user_id,
        events=_in_order(events),
        told=told,
    )


def _grant_events(grant: ReportGrant, model: Callable[[str], str]) -> Iterable[Event]:
    what = f"G{grant.grant_id} {model(grant.model)}"
    yield Event(moment(grant.suspended_at), f"{what}: suspended")
    if grant.released_at is not None:
        yield Event(moment(grant.released_at), f"{what}: {_release(grant)}")
    elif grant.status_now == GrantStatus.SUSPENDED:
        yield Event(None, f"{what}: still suspended{_holds(grant)}")


def _release(grant: ReportGrant) -> str:
    """What the directive letting go of a grant meant for it."""
    if grant.reinstated:
        later = "" if grant.status_now == GrantStatus.ACTIVE else f" (now {grant.status_now})"
        return f"reinstated{later}"
    if grant.status_now == GrantStatus.SUSPENDED:
        return f"released by this directive, not reinstated: still suspended{_holds(grant)}"
    if grant.status_now == GrantStatus.ACTIVE:
        return "released by this directive (its population no longer covered the holder); active again"
    return f"released by this directive, not reinstated: {grant.status_now}"


def _holds(grant: ReportGrant) -> str:
    return f" (held by {', '.join(grant.held_by)})" if grant.held_by else ""


def _in_order(events: list[Event]) -> list[Event]:
    # Events without a time (a grant still suspended) come last: they describe now, not a moment.
    return sorted(events, key=lambda e: (e.at is None, e.at.iso if e.at else ""))


def _told(notice: ReportNotice) -> Event:
    """A notice in its person's row; `at` is when it was delivered (None unless it was)."""
    announcement = PHASES.get(notice.phase, str(notice.phase))
    delivered = maybe(notice.sent_at) if notice.status == OutboxStatus.SENT else None
    return Event(delivered, f"{announcement} notice: {_outcome(notice)}")


def _outcome(post: ReportNotice | ReportChannel) -> str:
    if post.status == OutboxStatus.SENT:
        return "delivered"
    if post.status == OutboxStatus.FAILED:
        return f"not delivered: {post.error or 'no reason recorded'}"
    return "on the way"


def _delivery(to: str, post: ReportNotice | ReportChannel) -> Delivery:
    return Delivery(
        to=to,
        announcement=PHASES.get(post.phase, str(post.phase)),
        queued=moment(post.queued_at),
        delivered=maybe(post.sent_at) if post.status == OutboxStatus.SENT else None,
        outcome=_outcome(post),
        failed=post.status == OutboxStatus.FAILED,
    )


def _grant_row(grant: ReportGrant, person: str, model: Callable[[str], str]) -> GrantRow:
    if grant.released_at is not None:
        outcome = _release(grant)
    elif grant.status_now == GrantStatus.SUSPENDED:
        outcome = f"still suspended{_holds(grant)}"
    else:
        outcome = f"now {grant.status_now}"
    return GrantRow(
        grant=f"G{grant.grant_id}",
        person=person,
        model=model(grant.model),
        suspended=moment(grant.suspended_at),
        released=maybe(grant.released_at),
        outcome=outcome,
    )
