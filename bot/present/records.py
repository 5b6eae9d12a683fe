"""The records scripts read, as declared pydantic models: one row each of `accessbot requests list
--json`, `grants list --json`, `licence list --json`, `outbox list --json`, `directory show --json` and
one event of `accessbot audit export`. Directives, their impact and their reports are in
bot/present/directive_records.py.

Keys are stable snake_case in the order shown; README.md's "Command line" section documents them. Times
are ISO 8601 as `datetime.isoformat()` writes them (`2026-03-01T09:30:00.123456+00:00`; pydantic's own
`Z` form would change every script's input), null until they happen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer

from bot.domain.licences import LicenceKind
from bot.domain.status import GrantStatus, LicenceStatus, OutboxKind, OutboxStatus, RequestStatus

if TYPE_CHECKING:  # only the builders' parameters: `accessbot --version` need not load the tables
    from bot.domain.people import Person
    from bot.store.licences import StoredLicence
    from bot.store.tables import (
        AccessGrant,
        AccessRequest,
        AuditEvent,
        GatewayCheck,
        PersonalKey,
        WebhookDelivery,
        WebhookEvent,
    )

Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


class Record(BaseModel):
    """A record's declared keys, and no others: a key a producer adds or drops fails validation instead
    of reaching scripts unannounced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def as_json(self) -> dict[str, Any]:
        """The record as plain JSON values (enums as their words, times as ISO 8601 text), keys in
        declared order, ready for `json.dumps`."""
        return self.model_dump(mode="json")


class RequestRecord(Record):
    """An access request. `current_step` counts from 1 and is null unless the request is pending."""

    id: int
    slack_user_id: str
    model: str
    status: RequestStatus
    current_step: int | None
    step_count: int
    duration_seconds: int
    reason: str | None
    directive_id: int | None
    created_at: Timestamp
    decided_at: Timestamp | None
    expires_at: Timestamp | None

    @classmethod
    def of(cls, request: AccessRequest) -> Self:
        step = request.current_step
        return cls(
            id=request.id or 0,
            slack_user_id=request.requester_id,
            model=request.model,
            status=RequestStatus(request.status),
            current_step=None if step is None or request.status != RequestStatus.PENDING else step + 1,
            step_count=request.step_count,
            duration_seconds=request.duration_seconds,
            reason=request.outcome_reason,
            directive_id=request.directive_id,
            created_at=request.created_at,
            decided_at=request.decided_at,
            expires_at=request.expires_at,
        )


class GrantDeliveryRecord(Record):
    """The latest delivery of a grant's events to one receiver: whether that enforcement point knows the
    grant as it is (`status` `sent` and `version` its latest)."""

    receiver: str
    type: str
    version: int
    status: OutboxStatus
    attempts: int
    sent_at: Timestamp | None

    @classmethod
    def of(cls, delivery: WebhookDelivery, event: WebhookEvent) -> Self:
        return cls(
            receiver=delivery.receiver,
            type=event.type,
            version=event.version,
            status=OutboxStatus(delivery.status),
            attempts=delivery.attempts,
            sent_at=delivery.sent_at,
        )


class GrantRecord(Record):
    """A grant. `ended_*` stay null while the grant is held (active or suspended)."""

    id: int
    slack_user_id: str
    model: str
    status: GrantStatus
    request_id: int | None
    created_at: Timestamp
    starts_at: Timestamp
    expires_at: Timestamp
    ended_at: Timestamp | None
    ended_by: str | None
    end_reason: str | None
    # What holds the grant suspended (the entitlement rule's holds, `directive:D3` for a directive); empty
    # while nothing does.
    held_by: list[str]
    # Ids of the export licences the grant depends on (those that let its holder past a require-licence
    # directive); empty when it depends on none.
    licences: list[int]
    # The last time a gateway asked about this grant (to the minute), and whether it allowed the call;
    # null when no gateway has asked yet.
    last_gateway_check: Timestamp | None
    last_gateway_allowed: bool | None
    # The latest delivery of the grant's webhook events to each receiver: whether each enforcement point
    # knows the grant as it is now.
    webhooks: list[GrantDeliveryRecord]

    @classmethod
    def of(
        cls,
        grant: AccessGrant,
        held_by: list[str] | None = None,
        licences: list[int] | None = None,
        checked: GatewayCheck | None = None,
        webhooks: list[GrantDeliveryRecord] | None = None,
    ) -> Self:
        return cls(
            id=grant.id or 0,
            slack_user_id=grant.user_id,
            model=grant.model,
            status=GrantStatus(grant.status),
            request_id=grant.request_id,
            created_at=grant.created_at,
            starts_at=grant.starts_at,
            expires_at=grant.expires_at,
            ended_at=grant.ended_at,
            ended_by=grant.ended_by,
            end_reason=grant.end_reason,
            held_by=held_by or [],
            licences=licences or [],
            last_gateway_check=checked.checked_at if checked else None,
            last_gateway_allowed=checked.allowed if checked else None,
            webhooks=webhooks or [],
        )


class KeyRecord(Record):
    """A personal key for the AI gateway: never the key itself, only `shown` (its prefix and last
    characters). `revoked_*` stay null while it works."""

    id: int
    slack_user_id: str
    shown: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    revoked_by: str | None
    revoke_reason: str | None

    @classmethod
    def of(cls, key: PersonalKey) -> Self:
        from bot.domain.keys import masked

        return cls(
            id=key.id or 0,
            slack_user_id=key.user_id,
            shown=masked(key.hint),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            revoked_by=key.revoked_by,
            revoke_reason=key.revoke_reason,
        )


class LicenceRecord(Record):
    """An export licence. `holder` is a Slack user ID; dates are days (YYYY-MM-DD, UTC, both
    inclusive); `ended_*` stay null while it is active; `grants` are the ids of the grants that depend
    on it."""

    id: int
    label: str
    number: str
    authority: str
    kind: LicenceKind
    holder: str
    models: list[str]
    countries: list[str]
    valid_from: date
    valid_until: date
    conditions: str
    status: LicenceStatus
    recorded_by: str
    recorded_at: Timestamp
    ended_by: str | None
    ended_at: Timestamp | None
    end_reason: str | None
    grants: list[int]

    @classmethod
    def of(cls, stored: StoredLicence) -> Self:
        """The record of a licence read with the grants that depend on it (bot/store/licences.py)."""
        row = stored.row
        return cls(
            id=row.id or 0,
            label=f"L{row.id}",
            number=row.number,
            authority=row.authority,
            kind=LicenceKind(row.kind),
            holder=row.holder_id,
            models=list(stored.models),
            countries=list(stored.countries),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            conditions=row.conditions,
            status=LicenceStatus(row.status),
            recorded_by=row.recorded_by,
            recorded_at=row.recorded_at,
            ended_by=row.ended_by,
            ended_at=row.ended_at,
            end_reason=row.end_reason,
            grants=list(stored.grants),
        )


class AuditRecord(Record):
    """An audit event. `before`, `after` and `detail` hold whatever JSON the event recorded (usually an
    object, sometimes null); `seq`, `prev_hash` and `hash` its place in the audit chain (null until it is
    sealed), so that an export can be checked by recomputing each hash."""

    id: int
    at: Timestamp
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: Any
    after: Any
    detail: Any
    seq: int | None
    prev_hash: str | None
    hash: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> Self:
        return cls(
            id=event.id or 0,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            before=event.before,
            after=event.after,
            detail=event.detail,
            seq=event.seq,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


class OutboxRecord(Record):
    """A queued Slack message, without its body (it can hold personal data). `to` is a channel or user
    ID, or `response_url` for a reply through one; `group` ties a directive announcement's posts."""

    id: int
    kind: OutboxKind
    to: str
    status: OutboxStatus
    attempts: int
    group: str | None
    last_error: str | None
    created_at: Timestamp
    sent_at: Timestamp | None


class PersonRecord(Record):
    """A person in the directory. Lists are sorted; `us_person` is `yes`, `no` or `unknown`; `status` is
    `departed` once a full directory import no longer lists them."""

    slack_user_id: str
    email: str
    name: str
    manager_email: str | None
    department: str | None
    work_country: str | None
    citizenships: list[str]
    us_person: Literal["yes", "no", "unknown"]
    roles: list[str]
    status: Literal["active", "departed"]

    @classmethod
    def of(cls, person: Person, *, departed: bool = False) -> Self:
        return cls(
            slack_user_id=person.slack_user_id,
            email=person.email,
            name=person.name,
            manager_email=person.manager_email,
            department=person.department,
            work_country=person.work_country,
            citizenships=sorted(person.citizenships),
            us_person={True: "yes", False: "no", None: "unknown"}[person.us_person],
            roles=sorted(person.roles),
            status="departed" if departed else "active",
        )


def request_record(request: AccessRequest) -> dict[str, Any]:
    """One row of `accessbot requests list --json` (see RequestRecord)."""
    return RequestRecord.of(request).as_json()


def audit_record(event: AuditEvent) -> dict[str, Any]:
    """One line of `accessbot audit export --format jsonl`, or the cells of one CSV row (see
    AuditRecord)."""
    return AuditRecord.of(event).as_json()
