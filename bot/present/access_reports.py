"""Point-in-time access reports (bot/services/access_reports.py) as the CLI prints them (`--json`
records, CSV rows, text lines) and as `/access report` shows them in Slack.

JSON keys are stable snake_case in the order declared; README.md's "Point-in-time access reports"
documents them. Times are ISO 8601 as `datetime.isoformat()` writes them, as in bot/present/records.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Self

from bot.domain.access_history import (
    AccessAt,
    Holder,
    IntervalEnd,
    PersonAccess,
    UsePeriod,
)
from bot.domain.catalog import Catalog
from bot.domain.text import csv_safe
from bot.present.records import Record, Timestamp
from bot.present.replies import Screen
from bot.present.rows import model_name

# How many holders `/access report` lists in Slack; the CLI gives the whole list.
SLACK_LIST_LIMIT = 25


class ApprovalEntry(Record):
    """One decision on the request behind a grant: the step (position from 0, its name), the approver,
    the verdict and when it was given."""

    position: int
    step: str
    approver_id: str
    approver_name: str | None
    verdict: str
    decided_at: Timestamp


class LicenceEntry(Record):
    """A licence the grant relied on at the instant asked about."""

    licence_id: int
    authority: str
    number: str
    kind: str
    valid_from: date
    valid_until: date


class HolderRecord(Record):
    """`accessbot report access --model M --at T --json`: one person who could use the model then, and
    on what basis. `name` is null when the directory never knew them; `request_id` null for a grant
    made without a request."""

    slack_user_id: str
    name: str | None
    model: str
    at: Timestamp
    grant_id: int
    request_id: int | None
    grant_starts_at: Timestamp
    grant_expires_at: Timestamp
    approvals: list[ApprovalEntry]
    licences: list[LicenceEntry]

    @classmethod
    def of(cls, report: AccessAt, holder: Holder) -> Self:
        grant = holder.grant
        return cls(
            slack_user_id=grant.user_id,
            name=grant.name,
            model=grant.model,
            at=report.at,
            grant_id=grant.id,
            request_id=grant.request_id,
            grant_starts_at=grant.starts_at,
            grant_expires_at=grant.expires_at,
            approvals=[ApprovalEntry.model_validate(a, from_attributes=True) for a in holder.approvals],
            licences=[LicenceEntry.model_validate(lc, from_attributes=True) for lc in holder.licences],
        )


class PeriodRecord(Record):
    """`accessbot report access --person P --from T1 [--to T2] --json`: an interval `[start, end)` in
    which the person could use `model` under grant `grant_id`, clipped to the window; `ended_by` says
    what ended it (`suspended`, `revoked`, `expired`, or `window_end` when use went on past the
    window)."""

    slack_user_id: str
    model: str
    grant_id: int
    start: Timestamp
    end: Timestamp
    ended_by: IntervalEnd

    @classmethod
    def of(cls, report: PersonAccess, period: UsePeriod) -> Self:
        return cls(
            slack_user_id=report.user_id,
            model=period.grant.model,
            grant_id=period.grant.id,
            start=period.interval.start,
            end=period.interval.end,
            ended_by=period.interval.ended_by,
        )


HOLDER_COLUMNS = ("slack_user_id", "name", "model", "at", "grant_id", "request_id", "grant_starts_at",
                  "grant_expires_at", "approvals", "licences")  # fmt: skip
PERIOD_COLUMNS = tuple(PeriodRecord.model_fields)


def approvals_text(approvals: Sequence[ApprovalEntry]) -> str:
    """Decisions on one line: `step: approver_id (name) verdict at time`, `; `-separated."""
    return "; ".join(
        f"{a.step}: {a.approver_id}{f' ({a.approver_name})' if a.approver_name else ''} {a.verdict} "
        f"{a.decided_at.isoformat()}"
        for a in approvals
    )


def licences_text(licences: Sequence[LicenceEntry]) -> str:
    """Licences on one line: `authority number (kind, valid_from to valid_until)`, `; `-separated."""
    return "; ".join(
        f"{lc.authority} {lc.number} ({lc.kind}, {lc.valid_from} to {lc.valid_until})" for lc in licences
    )


def holder_csv_row(record: HolderRecord) -> list[str]:
    """A holder as CSV cells in HOLDER_COLUMNS order: approvals and licences as their one-line texts,
    every cell through csv_safe (a name starting with `=` reaches a spreadsheet as text)."""
    values: dict[str, Any] = record.as_json()
    values["approvals"] = approvals_text(record.approvals)
    values["licences"] = licences_text(record.licences)
    return [csv_safe(values[column]) for column in HOLDER_COLUMNS]


def period_csv_row(record: PeriodRecord) -> list[str]:
    """A period as CSV cells in PERIOD_COLUMNS order, through csv_safe."""
    values = record.as_json()
    return [csv_safe(values[column]) for column in PERIOD_COLUMNS]


def holder_line(record: HolderRecord) -> str:
    """One holder as a text line (to be made printable by the caller)."""
    who = f"{record.slack_user_id} {record.name or '(not in directory)'}"
    basis = (
        f"G{record.grant_id} ({record.grant_starts_at.isoformat()} to {record.grant_expires_at.isoformat()})"
    )
    parts = [f"{who}: {basis}"]
    if record.approvals:
        parts.append(f"approved by {approvals_text(record.approvals)}")
    if record.licences:
        parts.append(f"licences {licences_text(record.licences)}")
    return "; ".join(parts)


def period_line(record: PeriodRecord) -> str:
    """One period as a text line."""
    return (
        f"{record.model} G{record.grant_id}: {record.start.isoformat()} to {record.end.isoformat()} "
        f"({record.ended_by.replace('_', ' ')})"
    )


def cli_command(model: str, at: datetime) -> str:
    """The command that prints the whole list, for the Slack summary's footer: the same instant to the
    microsecond, so that it gives the same answer."""
    fraction = f".{at.microsecond:06d}" if at.microsecond else ""
    return f"accessbot report access --model {model} --at {at.strftime('%Y-%m-%dT%H:%M:%S')}{fraction}Z"


def access_report_screen(catalog: Catalog, report: AccessAt) -> Screen:
    """`/access report <model> <time>` in Slack (templates/access_report.json.j2): how many could use
    the model, the first SLACK_LIST_LIMIT of them with grant, approvers and licences, and the CLI
    command for the whole list."""
    shown = report.holders[:SLACK_LIST_LIMIT]
    return Screen(
        "access_report",
        {
            "model": report.model,
            "model_name": model_name(catalog, report.model),
            "at": report.at,
            "count": len(report.holders),
            "holders": [
                {
                    "user_id": h.grant.user_id,
                    "grant_id": h.grant.id,
                    "expires_at": h.grant.expires_at,
                    "approvers": [
                        {"user_id": a.approver_id, "step": a.step, "at": a.decided_at}
                        for a in h.approvals
                        if a.verdict == "approve"
                    ],
                    "licences": [f"{lc.authority} {lc.number}" for lc in h.licences],
                }
                for h in shown
            ],
            "more": len(report.holders) - len(shown),
            "command": cli_command(report.model, report.at),
        },
    )
