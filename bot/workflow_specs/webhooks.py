"""The declared form of workflows/webhooks.yaml (optional): the receivers of AccessBot's signed webhooks.

Checked like the other workflow files (bot/workflow_specs/): every problem names the file and key.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from bot.domain.webhooks import EVENT_TYPES, FAMILIES, RECEIVER_NAME, Receiver, expand
from bot.workflow_specs.values import Spec, kind, listed, problem, text

# Plain http reaches only this machine; anything further must be https.
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem(f"must be a URL, not {kind(value)}")
    url = value.strip()
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:  # a malformed port or IPv6 address
        raise problem(f"'{url}' is not an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise problem(f"'{url}' is not an http(s) URL")
    if parts.username or parts.password:
        raise problem("must not hold a user name or password: the signature proves the sender")
    if parts.scheme == "http" and host not in LOOPBACK:
        raise problem("must use https (plain http only reaches this machine: localhost, 127.0.0.1, ::1)")
    return url


def _event(value: Any) -> str:
    if value not in EVENT_TYPES and value not in FAMILIES:
        known = ", ".join((*EVENT_TYPES, *FAMILIES))
        raise problem(f"'{value}' is not an event type (known: {known})")
    return str(value)


class ReceiverSpec(Spec):
    """One entry of `receivers:`."""

    name: Annotated[str, text(limit=32)]
    url: Annotated[str, BeforeValidator(_url)]
    events: Annotated[
        tuple[Annotated[str, BeforeValidator(_event)], ...],
        listed(
            "must be a list of event types, like [grant.*, directive.lifted] (all of them: ['*'])",
            non_empty=True,
            empty_means="missing",
        ),
    ]
    description: Any = None  # for the admin reading the file; never sent

    @field_validator("name")
    @classmethod
    def _unique_name(cls, name: str, info: ValidationInfo) -> str:
        if not RECEIVER_NAME.match(name):
            raise problem(
                f"'{name}' must start with a letter and hold only lower-case letters, digits, dashes"
            )
        seen: set[str] | None = (info.context or {}).get("receivers")
        if seen is not None:
            if name in seen:
                raise problem(f"'{name}' is used by another receiver")
            seen.add(name)
        return name

    def to_receiver(self) -> Receiver:
        return Receiver(self.name, self.url, expand(self.events))


class WebhooksFile(Spec):
    receivers: Annotated[
        list[ReceiverSpec], listed("must be a list of receivers (or [] for none)", empty_means="default")
    ] = Field(default_factory=list)

    def to_receivers(self) -> tuple[Receiver, ...]:
        return tuple(spec.to_receiver() for spec in self.receivers)
