"""The records scripts read about directives, as declared pydantic models: a row of `accessbot directive
list --json`, what `directive issue --json` prints (the impact, measured or done) and `directive report
--json`.

The use cases return these (bot/services/directives: `list_directives`, `report`, `report_summary`);
the audit trail and the Slack templates read their JSON form (`as_json`). The impact is the one shape a
service still hands over as a dict (`Impact.as_dict`, also the audit event's detail), checked here on
its way out (`ImpactRecord.from_service`), so a key it adds or drops fails here instead of reaching
scripts unannounced. Times as in bot/present/records.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, Literal, Self

from bot.domain.status import DirectivePhase, DirectiveStatus, GrantStatus, OutboxStatus
from bot.present.records import Record, Timestamp
from bot.store.directive_reports import Summary
from bot.store.tables import Directive


class DirectiveRecord(Record):
    """A directive (never a draft). `models` are slugs; `action` is `suspend`, `require-licence` or
    `notice`; `population` as issued (`everyone`, `non-us-persons`, `citizenship:XX;YY`, `users:U1;U2`)."""

    id: int
    reference: str
    title: str
    authority: str
    status: DirectiveStatus
    models: list[str]
    population: str
    action: str
    effective_at: Timestamp
    issued_by: str
    issued_at: Timestamp | None
    activated_at: Timestamp | None
    lifted_by: str | None
    lifted_at: Timestamp | None

    @classmethod
    def of(cls, directive: Directive, models: Sequence[str]) -> Self:
        """The record of an issued directive and its model slugs."""
        return cls(
            id=directive.id or 0,
            reference=directive.reference,
            title=directive.title,
            authority=directive.authority,
            status=DirectiveStatus(directive.status),
            models=list(models),
            population=directive.population,
            action=directive.action,
            effective_at=directive.effective_at,
            issued_by=directive.issued_by,
            issued_at=directive.issued_at,
            activated_at=directive.activated_at,
            lifted_by=directive.lifted_by,
            lifted_at=directive.lifted_at,
        )


class ModelImpactRecord(Record):
    """What a directive does to one model: grants suspended now, grants another directive holds
    suspended already, pending requests stopped, and the model's announcement channels."""

    model: str
    name: str
    grants_suspended: int
    grants_already_suspended: int
    requests_stopped: int
    channels: list[str]


class ImpactRecord(Record):
    """What issuing a directive does (or, in a dry run, would do). `not_in_directory`: people a `users:`
    population names whom the directory does not know."""

    @classmethod
    def from_service(cls, data: Mapping[str, Any]) -> Self:
        """The record of `Impact.as_dict()`; raises pydantic.ValidationError when its keys or values are
        not the declared ones."""
        return cls.model_validate(data)

    action: str
    people_to_notify: int
    not_in_directory: list[str]
    channels_to_notify: list[str]
    models: list[ModelImpactRecord]


class PreviewRecord(Record):
    """`accessbot directive issue --dry-run --json`: nothing was changed."""

    dry_run: bool
    impact: ImpactRecord


class IssuedRecord(PreviewRecord):
    """`accessbot directive issue --json`: the directive issued, in force (`active`) or `scheduled`."""

    id: int
    status: DirectiveStatus


class ReportGrant(Record):
    """A grant the directive suspended; `released_at` is when it let go of it, and `status_now` says
    whether the grant came back (another directive may still hold it, or it expired meanwhile)."""

    grant_id: int
    model: str
    suspended_at: Timestamp
    released_at: Timestamp | None
    reinstated: bool
    status_now: GrantStatus
    # What holds the grant now (the entitlement rule's holds, `directive:D3` for a directive, this one
    # included while it is in force); empty once nothing does.
    held_by: list[str]


class ReportRequest(Record):
    """A request the directive stopped while pending, or denied when it was made while in force."""

    request_id: int
    model: str
    what: Literal["stopped while pending", "denied when asked"]
    at: Timestamp | None


class ReportNotice(Record):
    """One post of one announcement and how its delivery stands (`error`: Slack's, when it failed):
    `queued_at` when the announcement queued it, `sent_at` when Slack took it (null until it has, and
    for a post given up on)."""

    phase: DirectivePhase
    status: OutboxStatus
    error: str | None
    queued_at: Timestamp
    sent_at: Timestamp | None


class ReportChannel(Record):
    """An announcement posted to a channel (fields as in ReportNotice)."""

    channel: str
    phase: DirectivePhase
    status: OutboxStatus
    error: str | None
    queued_at: Timestamp
    sent_at: Timestamp | None


class ReportPerson(Record):
    """Someone the directive affected; `name` is null when the directory does not know them."""

    slack_user_id: str
    grants: list[ReportGrant]
    requests: list[ReportRequest]
    notices: list[ReportNotice]
    name: str | None


class ReportSummary(Record):
    """The report in numbers."""

    people: int
    grants_suspended: int
    grants_reinstated: int
    requests_stopped: int
    requests_denied: int
    notices_failed: int

    @classmethod
    def of(cls, summary: Summary) -> Self:
        return cls(**asdict(summary))


class DirectiveOverview(Record):
    """A directive and its report in numbers: `/directive report` in Slack, where the per-person list
    is too long to show."""

    directive: DirectiveRecord
    summary: ReportSummary


class ReportedDirective(DirectiveRecord):
    """A directive as its report shows it: its record (as in `directive list --json`) with the order's
    `notice` text and the `lift_reason` given when it was lifted (null if none was, or until it is)."""

    notice: str
    lift_reason: str | None

    @classmethod
    def of(cls, directive: Directive, models: Sequence[str]) -> Self:
        """The report's record of an issued directive and its model slugs."""
        listed = DirectiveRecord.of(directive, models).model_dump()
        return cls(**listed, notice=directive.notice, lift_reason=directive.lift_reason)


class DirectiveReport(Record):
    """`accessbot directive report --json`: everyone the directive affected, by Slack user ID, its
    channel posts, and the summary."""

    directive: ReportedDirective
    people: list[ReportPerson]
    channels: list[ReportChannel]
    summary: ReportSummary
