"""The declared shape of workflows/policy.yaml: `policy:` and its keys, each with the default of
bot/domain/catalog.py's Policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from bot.domain.catalog import Policy
from bot.domain.durations import format_duration
from bot.workflow_specs.values import (
    WARNINGS_LIST,
    Spec,
    country_code,
    duration,
    duration_text,
    listed,
    longest_first,
    optional_channel,
    optional_role,
    problem,
    role_name,
    text,
    timing_leads,
    whole_number,
    within_timing_limit,
)

_POLICY = Policy()


class PolicySpec(Spec):
    """`policy:`; keys in the order their problems are reported."""

    embargoed_countries: Annotated[
        tuple[Annotated[str, BeforeValidator(country_code)], ...],
        listed("must be a list of ISO 3166-1 alpha-2 codes", empty_means="missing"),
    ]
    justification_min_chars: Annotated[int, whole_number(0, 3000)] = _POLICY.justification_min_chars
    justification_max_chars: Annotated[int, whole_number(1, 3000)] = _POLICY.justification_max_chars
    admin_role: Annotated[str, text(required=False), AfterValidator(role_name)] = _POLICY.admin_role
    compliance_role: Annotated[str, text(required=False), AfterValidator(role_name)] = _POLICY.compliance_role
    duration_choices: Annotated[
        tuple[Annotated[timedelta, BeforeValidator(duration_text)], ...],
        listed("must be a non-empty list of durations (like [1d, 7d, 30d])", True, "default"),
    ] = _POLICY.duration_choices
    request_ttl: Annotated[timedelta, duration(required=False)] = _POLICY.request_ttl
    contact: Annotated[str, text(required=False)] = _POLICY.contact
    directory_contact: Annotated[str, text(required=False)] = _POLICY.directory_contact
    max_departure_percent: Annotated[int, whole_number(0, 100)] = _POLICY.max_departure_percent
    licence_warning_days: Annotated[
        tuple[Annotated[int, whole_number(1, 366)], ...],
        listed("must be a list of whole numbers of days (like [30, 7]), or []", False, "default"),
    ] = _POLICY.licence_warning_days
    compliance_channel: Annotated[str | None, BeforeValidator(optional_channel)] = _POLICY.compliance_channel
    expiry_warnings: Annotated[
        tuple[Annotated[timedelta, BeforeValidator(duration_text)], ...],
        listed(WARNINGS_LIST, False, "default"),
    ] = _POLICY.expiry_warnings
    approval_reminder_after: Annotated[timedelta, duration(required=False)] = _POLICY.approval_reminder_after
    approval_reminders: Annotated[int, whole_number(0, 10)] = _POLICY.approval_reminders
    approval_escalate_after: Annotated[timedelta, duration(required=False)] = _POLICY.approval_escalate_after
    approval_escalate_to: Annotated[str | None, text(required=False), AfterValidator(optional_role)] = (
        _POLICY.approval_escalate_to
    )
    break_glass_channel: Annotated[str | None, BeforeValidator(optional_channel)] = (
        _POLICY.break_glass_channel
    )

    @field_validator("expiry_warnings")
    @classmethod
    def _distinct_warnings(cls, leads: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        return timing_leads(leads)

    @field_validator("approval_reminder_after", "approval_escalate_after")
    @classmethod
    def _before_the_request_ends(cls, wait: timedelta, info: ValidationInfo) -> timedelta:
        # A step measured longer than a request may wait would never remind or escalate.
        ttl = info.data.get("request_ttl", _POLICY.request_ttl)
        within_timing_limit(wait)
        if wait >= ttl:
            raise problem(f"must be shorter than request_ttl ({format_duration(ttl)}), or it never happens")
        return wait

    @field_validator("justification_max_chars")
    @classmethod
    def _minimum_within_maximum(cls, maximum: int, info: ValidationInfo) -> int:
        # A wrong minimum is reported on its own; compare with the default it falls back to.
        minimum = info.data.get("justification_min_chars", _POLICY.justification_min_chars)
        if minimum > maximum:
            raise problem("must not be more than justification_max_chars", key="justification_min_chars")
        return maximum

    def to_policy(self) -> Policy:
        return Policy(
            embargoed_countries=frozenset(self.embargoed_countries),
            justification_min_chars=self.justification_min_chars,
            justification_max_chars=self.justification_max_chars,
            admin_role=self.admin_role,
            compliance_role=self.compliance_role,
            request_ttl=self.request_ttl,
            duration_choices=tuple(sorted(set(self.duration_choices))),
            contact=self.contact,
            directory_contact=self.directory_contact,
            max_departure_percent=self.max_departure_percent,
            licence_warning_days=tuple(sorted(set(self.licence_warning_days), reverse=True)),
            compliance_channel=self.compliance_channel,
            expiry_warnings=longest_first(self.expiry_warnings),
            approval_reminder_after=self.approval_reminder_after,
            approval_reminders=self.approval_reminders,
            approval_escalate_after=self.approval_escalate_after,
            approval_escalate_to=self.approval_escalate_to,
            break_glass_channel=self.break_glass_channel,
        )


class PolicyFile(Spec):
    # Absent, the policy is an empty mapping, so that the keys it requires are named.
    policy: PolicySpec = Field(default_factory=dict, validate_default=True)
