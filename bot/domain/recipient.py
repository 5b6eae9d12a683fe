"""Who a notification is for: a person (by DM), a channel, or the `response_url` of an interaction.

The outbox stores a recipient as one text address; this module is the only place that tells the kinds
apart. Slack user ids start with U (or W on Enterprise Grid), conversation ids with C, G or D
(https://api.slack.com/changelog/2017-09-the-one-about-usernames, "Identifiers").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RecipientKind(StrEnum):
    PERSON = "person"
    CHANNEL = "channel"
    RESPONSE_URL = "response_url"


@dataclass(frozen=True)
class Recipient:
    """One addressee. `address` is a Slack user id (PERSON), a conversation id (CHANNEL) or an https URL
    (RESPONSE_URL)."""

    kind: RecipientKind
    address: str

    @classmethod
    def person(cls, user_id: str) -> Recipient:
        return cls(RecipientKind.PERSON, user_id)

    @classmethod
    def channel(cls, channel_id: str) -> Recipient:
        return cls(RecipientKind.CHANNEL, channel_id)

    @classmethod
    def response_url(cls, url: str) -> Recipient:
        return cls(RecipientKind.RESPONSE_URL, url)

    @classmethod
    def of(cls, address: str) -> Recipient:
        """The recipient a stored address names: a URL, a user id, or else a conversation id."""
        if address.startswith(("https://", "http://")):
            return cls.response_url(address)
        if is_user_id(address):
            return cls.person(address)
        return cls.channel(address)

    @property
    def is_person(self) -> bool:
        return self.kind is RecipientKind.PERSON

    @property
    def is_channel(self) -> bool:
        return self.kind is RecipientKind.CHANNEL


def is_user_id(address: str) -> bool:
    """Whether `address` is a Slack user id (U… or W…) rather than a conversation id or a URL."""
    return address[:1] in ("U", "W")


def is_dm_channel(channel_id: str) -> bool:
    """Whether a conversation id is a direct-message channel (D…)."""
    return channel_id[:1] == "D"
