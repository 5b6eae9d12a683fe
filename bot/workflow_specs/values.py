"""The checks of one workflow value each (text, numbers, durations, roles, channels, countries) and of
lists and mappings, shared by every workflow file's declared shape; `Spec`, the base of each mapping.

Each check raises a `workflow` error (`problem`) whose text is what the admin reads after
`<file>: <key path>:`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError, PydanticUseDefault

from bot.domain.catalog import MODEL_STATUSES
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


def problem(text: str, key: str | None = None) -> PydanticCustomError:
    """A `workflow` error; `key` names the sibling key it is reported under instead of the one checked."""
    # The text travels as context so that braces in a quoted value are never read as a template.
    context = {"problem": text} if key is None else {"problem": text, "key": key}
    return PydanticCustomError(WORKFLOW_ERROR, "{problem}", context)


def missing(key: str | None) -> PydanticCustomError:
    """The `workflow` error for an absent or empty required key (`MISSING`'s text where it has one)."""
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


def whole_number(minimum: int, maximum: int) -> BeforeValidator:
    """A whole number from `minimum` to `maximum`, both included (true/false is not a number here)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem(f"must be a whole number, not {kind(value)}")
        if not minimum <= value <= maximum:
            raise problem(f"must be between {minimum} and {maximum}")
        return value

    return BeforeValidator(check)


def flag(value: Any) -> bool:
    """true or false, nothing else."""
    if not isinstance(value, bool):
        raise problem(f"must be true or false, not {kind(value)}")
    return value


def optional_flag(value: Any) -> bool | None:
    """true, false, or nothing (None)."""
    return None if value is None else flag(value)


def duration_text(value: Any) -> timedelta:
    """A duration as bot/domain/durations.py reads it (`7d`, `2w`, `8h`)."""
    try:
        return parse_duration(str(value))
    except DurationError as error:
        raise problem(str(error)) from None


def duration(required: bool) -> BeforeValidator:
    """A duration; empty in YAML: required, or the default."""

    def check(value: Any, info: ValidationInfo) -> timedelta:
        if value is None:
            if required:
                raise missing(info.field_name)
            raise PydanticUseDefault()
        return duration_text(value)

    return BeforeValidator(check)


def role_name(value: str) -> str:
    """A directory role name: lower-case letters, digits and dashes."""
    if not ROLE.match(value):
        raise problem(f"'{value}' must be lower-case letters, digits and dashes")
    return value


def optional_role(value: str | None) -> str | None:
    """A directory role name, or nothing."""
    return None if value is None else role_name(value)


def model_status(value: Any) -> str:
    """One of the catalog's model statuses (`MODEL_STATUSES`)."""
    if value not in MODEL_STATUSES:
        raise problem(f"must be one of {', '.join(MODEL_STATUSES)}, not '{value}'")
    return str(value)


def country_code(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code (bot/domain/countries.py); a YAML NO read as false is told to quote it."""
    if isinstance(value, bool):
        raise problem('YAML reads NO, YES, ON and OFF as true/false: quote the code, e.g. "NO"')
    wrong = country_problem(str(value))
    if wrong:
        raise problem(wrong)
    return str(value)


def channel_id(value: Any) -> str:
    """A Slack channel ID (C… public, G… private)."""
    if not isinstance(value, str) or not CHANNEL.match(value):
        raise problem(f"'{value}' is not a channel ID (like C0123ABCD; copy it from the channel details)")
    return value


def optional_channel(value: Any) -> str | None:
    """A channel ID, or nothing (`key:` alone, or absent)."""
    return None if value is None else channel_id(value)


def gateway_name(value: Any) -> str:
    """A model name as a gateway sends it: text of at most 200 characters without spaces."""
    if not isinstance(value, str) or not value.strip():
        raise problem(f"must hold model names as text, not {kind(value)}")
    name = value.strip()
    if len(name) > 200 or any(c.isspace() or not c.isprintable() for c in name):
        raise problem(f"'{name[:40]}' is not a model name: at most 200 characters, without spaces")
    return name


def chain_name(value: str) -> str:
    """A chain name: a slug (lower-case letters, digits and dashes)."""
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


def named(value: Any) -> Any:
    """A mapping with its keys as text: YAML reads some keys as numbers or dates the admin wrote as text."""
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else value


WARNINGS_LIST = "must be a list of durations before a grant's end (like [3d, 1d]), or []"


# The longest lead time or wait a setting may name: a year (longer ones could never happen, and overflow
# the dates and second counts the store keeps).
TIMING_LIMIT = timedelta(days=366)


def within_timing_limit(value: timedelta) -> timedelta:
    """A wait longer than zero and at most `TIMING_LIMIT`."""
    if value <= timedelta(0):
        raise problem("must be longer than zero")
    if value > TIMING_LIMIT:
        raise problem(f"must be at most {TIMING_LIMIT.days} days")
    return value


def timing_leads(leads: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    """Lead times each within the limit, none given twice (`[1d, 24h]` names one twice)."""
    for lead in leads:
        if lead <= timedelta(0) or lead > TIMING_LIMIT:
            raise problem(f"{format_duration(lead)} is not between a second and {TIMING_LIMIT.days} days")
    if len(set(leads)) != len(leads):
        raise problem("names the same lead time twice")
    return leads


def longest_first(leads: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    """The distinct lead times, longest first."""
    return tuple(sorted(set(leads), reverse=True))


class Spec(BaseModel):
    """A YAML mapping with exactly these keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _text_keys(cls, data: Any) -> Any:
        return named(data)
