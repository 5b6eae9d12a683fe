"""The declared shape of workflows/ (models.yaml, chains.yaml, policy.yaml, webhooks.yaml), as pydantic
models.

Every check raises a `workflow` error whose text is what the admin reads after `<file>: <key path>:`
(bot/workflows.py adds those and turns pydantic's own errors, such as an unknown key, into the same
form). A valid file becomes the plain domain objects of bot/domain/catalog.py through `to_*()`.

Each key is checked on its own, so one wrong value never hides another; the few checks that compare two
keys sit on the later of the two and read the earlier one from `info.data` (absent when it was wrong).
Checks that need more than one file read the validation context: `chains`, the names chains.yaml
defines, and `slugs`, the slugs seen so far.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticUseDefault

from bot.domain.catalog import MANAGER, MODEL_STATUSES, BreakGlassRule, Chain, Model, Policy, StepRule
from bot.domain.countries import country_problem
from bot.domain.durations import DurationError, format_duration, parse_duration

WORKFLOW_ERROR = "workflow"
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ROLE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,20}$")
# What a required key that is absent (or empty) is told, where a plain "is required" would not help.
MISSING = {
    "embargoed_countries": "is required (write [] if no country is embargoed)",
    "default_duration": "is required (like 7d)",
    "max_duration": "is required (like 7d)",
    "chains": "must be a mapping, not nothing",
    "steps": "must be a non-empty list of steps",
    "models": "must be a non-empty list of models",
    "url": "is required (the https URL events are POSTed to)",
    "events": "is required (a list of event types, like [grant.*, directive.lifted])",
}
# Hosts a receiver may be reached on over plain http: this machine only, where nothing crosses a network.
_POLICY = Policy()


def problem(text: str, key: str | None = None) -> PydanticCustomError:
    """A `workflow` error; `key` names the sibling key it is reported under instead of the one checked."""
    # The text travels as context so that braces in a quoted value are never read as a template.
    context = {"problem": text} if key is None else {"problem": text, "key": key}
    return PydanticCustomError(WORKFLOW_ERROR, "{problem}", context)


def missing(key: str | None) -> PydanticCustomError:
    return problem(MISSING.get(key or "", "is required"))


def kind(value: Any) -> str:
    """What a YAML value is, in an admin's words ("a mapping", "text", "nothing")."""
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a decimal number",
    }.get(type(value), type(value).__name__)


# --- one value each ---------------------------------------------------------------------------------


def text(limit: int = 200, required: bool = True) -> BeforeValidator:
    """Non-empty text of at most `limit` characters, stripped. Empty in YAML: required, or the default."""

    def check(value: Any, info: ValidationInfo) -> str:
        if value is None:
            if required:
                raise missing(info.field_name)
            raise PydanticUseDefault()
        if not isinstance(value, str) or not value.strip():
            raise problem(f"must be non-empty text, not {kind(value)}")
        if len(value) > limit:
            raise problem(f"must be at most {limit} characters")
        return value.strip()

    return BeforeValidator(check)


def _whole(minimum: int, maximum: int) -> BeforeValidator:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem(f"must be a whole number, not {kind(value)}")
        if not minimum <= value <= maximum:
            raise problem(f"must be between {minimum} and {maximum}")
        return value

    return BeforeValidator(check)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise problem(f"must be true or false, not {kind(value)}")
    return value


def _optional_flag(value: Any) -> bool | None:
    return None if value is None else _flag(value)


def _duration_text(value: Any) -> timedelta:
    try:
        return parse_duration(str(value))
    except DurationError as error:
        raise problem(str(error)) from None


def _duration(required: bool) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> timedelta:
        if value is None:
            if required:
                raise missing(info.field_name)
            raise PydanticUseDefault()
        return _duration_text(value)

    return BeforeValidator(check)


def _role(value: str) -> str:
    if not ROLE.match(value):
        raise problem(f"'{value}' must be lower-case letters, digits and dashes")
    return value


def _optional_role(value: str | None) -> str | None:
    return None if value is None else _role(value)


def _status(value: Any) -> str:
    if value not in MODEL_STATUSES:
        raise problem(f"must be one of {', '.join(MODEL_STATUSES)}, not '{value}'")
    return str(value)


def _country(value: Any) -> str:
    if isinstance(value, bool):
        raise problem('YAML reads NO, YES, ON and OFF as true/false: quote the code, e.g. "NO"')
    wrong = country_problem(str(value))
    if wrong:
        raise problem(wrong)
    return str(value)


def _channel(value: Any) -> str:
    if not isinstance(value, str) or not CHANNEL.match(value):
        raise problem(f"'{value}' is not a channel ID (like C0123ABCD; copy it from the channel details)")
    return value


def _optional_channel(value: Any) -> str | None:
    """A channel ID, or nothing (`key:` alone, or absent)."""
    return None if value is None else _channel(value)


def _gateway_name(value: Any) -> str:
    """A model name as a gateway sends it: text of at most 200 characters without spaces."""
    if not isinstance(value, str) or not value.strip():
        raise problem(f"must hold model names as text, not {kind(value)}")
    name = value.strip()
    if len(name) > 200 or any(c.isspace() or not c.isprintable() for c in name):
        raise problem(f"'{name[:40]}' is not a model name: at most 200 characters, without spaces")
    return name


def _chain_name(value: str) -> str:
    if not SLUG.match(value):
        raise problem("chain names must be lower-case letters, digits and dashes")
    return value


# --- lists and mappings -----------------------------------------------------------------------------


def listed(
    message: str, non_empty: bool = False, empty_means: Literal["wrong", "missing", "default"] = "wrong"
) -> BeforeValidator:
    """A YAML list (else `message`); an empty value (`key:` alone) is wrong, missing, or the default."""

    def check(value: Any, info: ValidationInfo) -> list[Any]:
        if value is None and empty_means == "default":
            raise PydanticUseDefault()
        if value is None and empty_means == "missing":
            raise missing(info.field_name)
        if not isinstance(value, list) or (non_empty and not value):
            raise problem(message)
        return value

    return BeforeValidator(check)


def _named(value: Any) -> Any:
    # YAML keys may be numbers or dates; the admin wrote them as text.
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else value


WARNINGS_LIST = "must be a list of durations before a grant's end (like [3d, 1d]), or []"


# Break-glass access is for an emergency: a day at most, after which the usual request applies.
BREAK_GLASS_LIMIT = timedelta(days=1)
# The longest lead time or wait a setting may name: a year (longer ones could never happen, and overflow
# the dates and second counts the store keeps).
TIMING_LIMIT = timedelta(days=366)


def _within_timing_limit(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise problem("must be longer than zero")
    if value > TIMING_LIMIT:
        raise problem(f"must be at most {TIMING_LIMIT.days} days")
    return value


def _timing_leads(leads: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    """Lead times each within the limit, none given twice (`[1d, 24h]` names one twice)."""
    for lead in leads:
        if lead <= timedelta(0) or lead > TIMING_LIMIT:
            raise problem(f"{format_duration(lead)} is not between a second and {TIMING_LIMIT.days} days")
    if len(set(leads)) != len(leads):
        raise problem("names the same lead time twice")
    return leads


def _longest_first(leads: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    return tuple(sorted(set(leads), reverse=True))


class Spec(BaseModel):
    """A YAML mapping with exactly these keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _text_keys(cls, data: Any) -> Any:
        return _named(data)


# --- policy.yaml ------------------------------------------------------------------------------------


class PolicySpec(Spec):
    """`policy:`; keys in the order their problems are reported."""

    embargoed_countries: Annotated[
        tuple[Annotated[str, BeforeValidator(_country)], ...],
        listed("must be a list of ISO 3166-1 alpha-2 codes", empty_means="missing"),
    ]
    justification_min_chars: Annotated[int, _whole(0, 3000)] = _POLICY.justification_min_chars
    justification_max_chars: Annotated[int, _whole(1, 3000)] = _POLICY.justification_max_chars
    admin_role: Annotated[str, text(required=False), AfterValidator(_role)] = _POLICY.admin_role
    compliance_role: Annotated[str, text(required=False), AfterValidator(_role)] = _POLICY.compliance_role
    duration_choices: Annotated[
        tuple[Annotated[timedelta, BeforeValidator(_duration_text)], ...],
        listed("must be a non-empty list of durations (like [1d, 7d, 30d])", True, "default"),
    ] = _POLICY.duration_choices
    request_ttl: Annotated[timedelta, _duration(required=False)] = _POLICY.request_ttl
    contact: Annotated[str, text(required=False)] = _POLICY.contact
    directory_contact: Annotated[str, text(required=False)] = _POLICY.directory_contact
    max_departure_percent: Annotated[int, _whole(0, 100)] = _POLICY.max_departure_percent
    licence_warning_days: Annotated[
        tuple[Annotated[int, _whole(1, 366)], ...],
        listed("must be a list of whole numbers of days (like [30, 7]), or []", False, "default"),
    ] = _POLICY.licence_warning_days
    compliance_channel: Annotated[str | None, BeforeValidator(_optional_channel)] = _POLICY.compliance_channel
    expiry_warnings: Annotated[
        tuple[Annotated[timedelta, BeforeValidator(_duration_text)], ...],
        listed(WARNINGS_LIST, False, "default"),
    ] = _POLICY.expiry_warnings
    approval_reminder_after: Annotated[timedelta, _duration(required=False)] = _POLICY.approval_reminder_after
    approval_reminders: Annotated[int, _whole(0, 10)] = _POLICY.approval_reminders
    approval_escalate_after: Annotated[timedelta, _duration(required=False)] = _POLICY.approval_escalate_after
    approval_escalate_to: Annotated[str | None, text(required=False), AfterValidator(_optional_role)] = (
        _POLICY.approval_escalate_to
    )
    break_glass_channel: Annotated[str | None, BeforeValidator(_optional_channel)] = (
        _POLICY.break_glass_channel
    )

    @field_validator("expiry_warnings")
    @classmethod
    def _distinct_warnings(cls, leads: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        return _timing_leads(leads)

    @field_validator("approval_reminder_after", "approval_escalate_after")
    @classmethod
    def _before_the_request_ends(cls, wait: timedelta, info: ValidationInfo) -> timedelta:
        # A step measured longer than a request may wait would never remind or escalate.
        ttl = info.data.get("request_ttl", _POLICY.request_ttl)
        _within_timing_limit(wait)
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
            expiry_warnings=_longest_first(self.expiry_warnings),
            approval_reminder_after=self.approval_reminder_after,
            approval_reminders=self.approval_reminders,
            approval_escalate_after=self.approval_escalate_after,
            approval_escalate_to=self.approval_escalate_to,
            break_glass_channel=self.break_glass_channel,
        )


class PolicyFile(Spec):
    # Absent, the policy is an empty mapping, so that the keys it requires are named.
    policy: PolicySpec = Field(default_factory=dict, validate_default=True)


# --- chains.yaml ------------------------------------------------------------------------------------


class StepSpec(Spec):
    approvers: Annotated[str, text()]
    quorum: Annotated[int, _whole(1, 10)] = 1
    name: Annotated[str, text(limit=100, required=False)] = ""
    delegable: Annotated[bool | None, BeforeValidator(_optional_flag)] = None

    @field_validator("approvers")
    @classmethod
    def _manager_or_role(cls, approvers: str) -> str:
        if approvers != MANAGER and not ROLE.match(approvers):
            raise problem(f"'{approvers}' must be 'manager' or a directory role name")
        return approvers

    @field_validator("quorum")
    @classmethod
    def _one_manager(cls, quorum: int, info: ValidationInfo) -> int:
        if info.data.get("approvers") == MANAGER and quorum != 1:
            raise problem("a manager step has one approver; quorum must be 1")
        return quorum

    def to_rule(self) -> StepRule:
        default = "Manager" if self.approvers == MANAGER else self.approvers.replace("-", " ").capitalize()
        return StepRule(self.name or default, self.approvers, self.quorum, self.delegable)


class ChainSpec(Spec):
    description: Any = None  # for the admin reading the file; never shown
    steps: Annotated[list[StepSpec], listed(MISSING["steps"], non_empty=True, empty_means="missing")]

    def to_chain(self, name: str) -> Chain:
        return Chain(name, tuple(step.to_rule() for step in self.steps))


class ChainsFile(Spec):
    chains: Annotated[dict[Annotated[str, AfterValidator(_chain_name)], ChainSpec], BeforeValidator(_named)]

    def to_chains(self) -> dict[str, Chain]:
        return {name: spec.to_chain(name) for name, spec in self.chains.items()}


def defined_chains(data: Any) -> set[str]:
    """The chain names models may use: each one in chains.yaml with a non-empty list of steps, even if a
    step is wrong (that is reported once, in chains.yaml, not again for every model on the chain)."""
    chains = _named(data.get("chains")) if isinstance(data, dict) else None
    if not isinstance(chains, dict):
        return set()
    return {
        name
        for name, body in chains.items()
        if isinstance(body, dict) and isinstance(body.get("steps"), list) and body["steps"]
    }


# --- models.yaml ------------------------------------------------------------------------------------


class BreakGlassSpec(Spec):
    """A model's `break_glass:` — who may take it at once in an emergency, and for how long at most."""

    roles: Annotated[
        tuple[Annotated[str, AfterValidator(_role)], ...],
        listed("must be a non-empty list of directory roles (like [on-call])", True, "missing"),
    ]
    max_duration: Annotated[timedelta, _duration(required=True)]

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
    status: Annotated[str, BeforeValidator(_status)] = MODEL_STATUSES[0]
    default_duration: Annotated[timedelta, _duration(required=True)]
    max_duration: Annotated[timedelta, _duration(required=True)]
    chain: Annotated[str, text()]
    announce_channels: Annotated[
        tuple[Annotated[str, BeforeValidator(_channel)], ...],
        listed("must be a list of channel IDs (like C0123ABCD)"),
    ] = ()
    us_persons_only: Annotated[bool, BeforeValidator(_flag)] = False
    description: Annotated[str, text(limit=500, required=False)] = ""
    # The names gateways call the model by (a provider's model name, a LiteLLM model alias): the
    # decision API (POST /v1/access/check) accepts each of them for this model, as well as its slug.
    gateway_models: Annotated[
        tuple[Annotated[str, BeforeValidator(_gateway_name)], ...],
        listed("must be a list of model names, as gateways send them"),
    ] = ()

    expiry_warnings: Annotated[
        tuple[Annotated[timedelta, BeforeValidator(_duration_text)], ...] | None,
        listed(WARNINGS_LIST, False, "default"),
    ] = None
    extend_chain: Annotated[str | None, text(required=False)] = None
    approval_reminder_after: Annotated[timedelta | None, _duration(required=False)] = None
    approval_reminders: Annotated[int | None, _whole(0, 10)] = None
    approval_escalate_after: Annotated[timedelta | None, _duration(required=False)] = None
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
        return None if wait is None else _within_timing_limit(wait)

    @field_validator("expiry_warnings")
    @classmethod
    def _warnings_within_maximum(
        cls, leads: tuple[timedelta, ...] | None, info: ValidationInfo
    ) -> tuple[timedelta, ...] | None:
        if leads is None:
            return None
        maximum = info.data.get("max_duration")
        for lead in _timing_leads(leads):
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
            expiry_warnings=None if self.expiry_warnings is None else _longest_first(self.expiry_warnings),
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
