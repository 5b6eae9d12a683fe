"""The declared shape of workflows/models.yaml: the models people may request, each with its durations,
approval chain, channels, gateway names, timings and break-glass rule.

Slugs and gateway names must be unique across the file: the validation context carries `slugs` and
`gateway_models` seen so far, and `chains`, the names chains.yaml defines.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, field_validator

from bot.domain.catalog import MODEL_STATUSES, BreakGlassRule, Model
from bot.domain.durations import format_duration
from bot.workflow_specs.values import (
    MISSING,
    SLUG,
    WARNINGS_LIST,
    Spec,
    channel_id,
    duration,
    duration_text,
    flag,
    gateway_name,
    listed,
    longest_first,
    model_status,
    problem,
    role_name,
    text,
    timing_leads,
    whole_number,
    within_timing_limit,
)

# Break-glass access is for an emergency: a day at most, after which the usual request applies.
BREAK_GLASS_LIMIT = timedelta(days=1)


class BreakGlassSpec(Spec):
    """A model's `break_glass:` — who may take it at once in an emergency, and for how long at most."""

    roles: Annotated[
        tuple[Annotated[str, AfterValidator(role_name)], ...],
        listed("must be a non-empty list of directory roles (like [on-call])", True, "missing"),
    ]
    max_duration: Annotated[timedelta, duration(required=True)]

    @field_validator("roles")
    @classmethod
    def _distinct_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(roles)) != len(roles):
            raise problem("names the same role twice")
        return roles

    @field_validator("max_duration")
    @classmethod
    def _short(cls, duration: timedelta) -> timedelta:
        if not timedelta(0) < duration <= BREAK_GLASS_LIMIT:
            raise problem(f"must be longer than zero and at most {format_duration(BREAK_GLASS_LIMIT)}")
        return duration

    def to_rule(self) -> BreakGlassRule:
        return BreakGlassRule(self.roles, self.max_duration)


class ModelSpec(Spec):
    """One entry of `models:`; keys in the order their problems are reported."""

    slug: Annotated[str, text(limit=64)]
    name: Annotated[str, text(limit=60)]
    provider: Annotated[str, text(limit=60)]
    status: Annotated[str, BeforeValidator(model_status)] = MODEL_STATUSES[0]
    default_duration: Annotated[timedelta, duration(required=True)]
    max_duration: Annotated[timedelta, duration(required=True)]
    chain: Annotated[str, text()]
    announce_channels: Annotated[
        tuple[Annotated[str, BeforeValidator(channel_id)], ...],
        listed("must be a list of channel IDs (like C0123ABCD)"),
    ] = ()
    us_persons_only: Annotated[bool, BeforeValidator(flag)] = False
    description: Annotated[str, text(limit=500, required=False)] = ""
    # The names gateways call the model by (a provider's model name, a LiteLLM model alias): the
    # decision API (POST /v1/access/check) accepts each of them for this model, as well as its slug.
    gateway_models: Annotated[
        tuple[Annotated[str, BeforeValidator(gateway_name)], ...],
        listed("must be a list of model names, as gateways send them"),
    ] = ()

    expiry_warnings: Annotated[
        tuple[Annotated[timedelta, BeforeValidator(duration_text)], ...] | None,
        listed(WARNINGS_LIST, False, "default"),
    ] = None
    extend_chain: Annotated[str | None, text(required=False)] = None
    approval_reminder_after: Annotated[timedelta | None, duration(required=False)] = None
    approval_reminders: Annotated[int | None, whole_number(0, 10)] = None
    approval_escalate_after: Annotated[timedelta | None, duration(required=False)] = None
    break_glass: BreakGlassSpec | None = None

    @field_validator("slug")
    @classmethod
    def _unique_slug(cls, slug: str, info: ValidationInfo) -> str:
        if not SLUG.match(slug):
            raise problem(f"'{slug}' must be lower-case letters, digits, dots and dashes")
        seen: set[str] | None = (info.context or {}).get("slugs")
        if seen is not None:
            if slug in seen:
                raise problem(f"'{slug}' is used by another model")
            seen.add(slug)
        # A slug is matched in any case (Catalog.gateway_model), so a gateway name differing from it only
        # in case would be ambiguous.
        called: dict[str, str] = (info.context or {}).get("gateway_models", {})
        for name, owner in called.items():
            if name.lower() == slug:
                raise problem(f"'{slug}' is a gateway name of model '{owner}' (as '{name}')")
        return slug

    @field_validator("gateway_models")
    @classmethod
    def _unique_gateway_models(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        slug = info.data.get("slug", "")
        slugs: set[str] = (info.context or {}).get("slugs", set())
        called: dict[str, str] = (info.context or {}).get("gateway_models", {})
        for name in names:
            if name.lower() == slug:
                raise problem(f"'{name}' is the model's own slug, which gateways may always use in any case")
            if name.lower() in slugs:
                raise problem(f"'{name}' is the slug of another model (slugs are matched in any case)")
            if name in called:
                raise problem(f"'{name}' is already a gateway name of model '{called[name]}'")
            called[name] = slug
        return names

    @field_validator("approval_reminder_after", "approval_escalate_after")
    @classmethod
    def _model_timing(cls, wait: timedelta | None) -> timedelta | None:
        return None if wait is None else within_timing_limit(wait)

    @field_validator("expiry_warnings")
    @classmethod
    def _warnings_within_maximum(
        cls, leads: tuple[timedelta, ...] | None, info: ValidationInfo
    ) -> tuple[timedelta, ...] | None:
        if leads is None:
            return None
        maximum = info.data.get("max_duration")
        for lead in timing_leads(leads):
            if maximum is not None and lead >= maximum:
                raise problem(
                    f"{format_duration(lead)} is not shorter than max_duration ({format_duration(maximum)}): "
                    "no grant would ever be warned then"
                )
        return leads

    @field_validator("break_glass")
    @classmethod
    def _break_glass_within_maximum(
        cls, rule: BreakGlassSpec | None, info: ValidationInfo
    ) -> BreakGlassSpec | None:
        maximum = info.data.get("max_duration")
        if rule is not None and maximum is not None and rule.max_duration > maximum:
            raise problem(
                f"max_duration {format_duration(rule.max_duration)} is longer than the model's own "
                f"max_duration ({format_duration(maximum)})"
            )
        return rule

    @field_validator("max_duration")
    @classmethod
    def _default_within_maximum(cls, maximum: timedelta, info: ValidationInfo) -> timedelta:
        default = info.data.get("default_duration")
        if default is not None and default > maximum:
            raise problem("must not be longer than max_duration", key="default_duration")
        return maximum

    @field_validator("chain", "extend_chain")
    @classmethod
    def _defined_chain(cls, chain: str | None, info: ValidationInfo) -> str | None:
        if chain is None:
            return None
        known: set[str] | None = (info.context or {}).get("chains")
        if known is not None and chain not in known:
            listed = ", ".join(sorted(known)) or "none defined"
            raise problem(f"'{chain}' is not defined in chains.yaml (known: {listed})")
        return chain

    def to_model(self) -> Model:
        return Model(
            slug=self.slug,
            name=self.name,
            provider=self.provider,
            status=self.status,
            default_duration=self.default_duration,
            max_duration=self.max_duration,
            chain=self.chain,
            announce_channels=self.announce_channels,
            us_persons_only=self.us_persons_only,
            description=self.description,
            gateway_models=self.gateway_models,
            expiry_warnings=None if self.expiry_warnings is None else longest_first(self.expiry_warnings),
            extend_chain=self.extend_chain,
            approval_reminder_after=self.approval_reminder_after,
            approval_reminders=self.approval_reminders,
            approval_escalate_after=self.approval_escalate_after,
            break_glass=self.break_glass.to_rule() if self.break_glass else None,
        )


class ModelsFile(Spec):
    models: Annotated[list[ModelSpec], listed(MISSING["models"], non_empty=True, empty_means="missing")]

    def to_models(self) -> dict[str, Model]:
        return {spec.slug: spec.to_model() for spec in self.models}
