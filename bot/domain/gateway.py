"""The gateway's question and AccessBot's answer: may this caller use this model now?

A gateway (an AI proxy every model call passes through) asks before each call, naming the caller by a
personal key or, when it already knows who is calling, by Slack user ID or e-mail, and the model by its
slug or a name from models.yaml `gateway_models`. The answer allows or denies, with a code a program can
act on and a reason a person can read. Answers are never cached (`cache_seconds` is 0): a suspension,
revocation or expiry takes effect on the very next check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, model_validator


class Code(StrEnum):
    """Why a check was answered as it was."""

    ALLOWED = "allowed"
    MALFORMED = "malformed"  # the body is not a check: not JSON, fields missing, wrong or both given
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_MODEL = "unknown_model"
    NO_GRANT = "no_grant"  # never granted, or a grant that was revoked or relinquished
    EXPIRED = "expired"
    SUSPENDED = "suspended"  # the grant is suspended (a directive, the entitlement rule)
    REFUSED = "refused"  # the grant is active but the entitlement rule refuses now (fail closed)


class CheckBody(BaseModel):
    """The JSON body of POST /v1/access/check: `{"key": ..., "model": ...}` or `{"user": ..., "model":
    ...}`. Other keys are ignored, so that a gateway may send more than it needs to."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    key: StrictStr | None = Field(None, max_length=200)
    user: StrictStr | None = Field(None, max_length=320)
    model: StrictStr = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_caller(self) -> CheckBody:
        if (self.key is None) == (self.user is None):
            raise ValueError("name the caller with either `key` or `user`, not both and not neither")
        return self


def read_body(payload: Any) -> CheckBody | str:
    """The check a parsed JSON body asks for, or why it is not one (one line, for the answer)."""
    if not isinstance(payload, dict):
        return 'the body must be a JSON object: {"key": ..., "model": ...} or {"user": ..., "model": ...}'
    try:
        return CheckBody.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class Decision:
    """The answer to one check. `user` and `model` are what the caller and model resolved to (None when
    they did not); `grant_id` and `expires_at` name the grant the answer is about, when there is one."""

    allow: bool
    code: Code
    reason: str
    user: str | None = None
    model: str | None = None
    grant_id: int | None = None
    expires_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The response body (docs: README "Gateway enforcement")."""
        return {
            "allow": self.allow,
            "code": self.code.value,
            "reason": self.reason,
            "user": self.user,
            "model": self.model,
            "grant_id": self.grant_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "cache_seconds": 0,
        }


def deny(code: Code, reason: str, **about: Any) -> Decision:
    return Decision(False, code, reason, **about)
