"""The state of the emulated Slack workspace: people, channels, messages, views, triggers, response URLs.

Plain data plus the rules Slack applies when storing things (unique increasing ``ts``, generated
``block_id``/``action_id``, DM channel per person, single-use triggers that expire). Expiry runs on the
workspace's own clock (``now()``). Nothing here locks: ``SlackEmulator`` holds one lock around every
call into this module. View records live in ``views``, response URL posts in ``response_urls``.
"""

from __future__ import annotations

import copy
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain.recipient import is_dm_channel, is_user_id

from .limits import MESSAGE_TEXT_MAX, check_message
from .walk import iter_elements

_ID_CHARS = string.ascii_uppercase + string.digits


class SlackError(Exception):
    """A Slack-shaped failure: ``{"ok": false, "error": code, **extra}`` with the given HTTP status."""

    def __init__(self, code: str, status: int = 200, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.extra = extra


def invalid_arguments(problems: list[str]) -> SlackError:
    """Slack's ``invalid_arguments`` error, with each problem as an ``[ERROR]`` response message."""
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})


def random_id(prefix: str, length: int = 10) -> str:
    """``prefix`` followed by ``length`` random upper-case letters and digits (Slack's id alphabet)."""
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def dm_channel_id(user_id: str) -> str:
    """The emulator's DM channel id for a person: ``D`` + the user id without its first letter.

    Real Slack ids are unrelated; bots must get DM ids from conversations.open or chat.postMessage's
    ``channel`` in the response, never compute them.
    """
    return "D" + user_id[1:]


@dataclass
class User:
    id: str
    name: str
    email: str
    real_name: str
    deleted: bool = False
    messages_tab: bool = True
    is_bot: bool = False

    @property
    def dm_id(self) -> str:
        return dm_channel_id(self.id)


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    bot_is_member: bool = True


@dataclass
class Trigger:
    user_id: str
    created: float
    used: bool = False


@dataclass
class ResponseUrl:
    id: str
    user_id: str
    channel_id: str
    message_ts: str | None
    ephemeral: bool
    created: float  # on the workspace clock (``Workspace.now()``), seconds
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


class Workspace:
    """Everything the emulated Slack remembers."""

    def __init__(
        self,
        *,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        trigger_ttl: float,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.team_id = team_id
        self.team_name = "AccessBot Test"
        self.team_domain = "accessbot-test"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.trigger_ttl = trigger_ttl
        self.clock = clock
        self.monotonic = monotonic
        # Seconds added to the expiry clock; Slack never moves it, a test does (to skip ahead in time).
        self.offset = 0.0
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.deleted_messages: list[dict[str, Any]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.modal_order: list[str] = []
        self.home_by_user: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.opened_dms: set[str] = set()
        self.violations: list[str] = []
        self.warnings: list[str] = []
        self._last_ts_us = 0
        self._counter = 0

    # -- time and ids ----------------------------------------------------------------------------

    def now(self) -> float:
        """The clock trigger ids and response URLs expire by: monotonic seconds plus ``offset``."""
        return self.monotonic() + self.offset

    def next_ts(self) -> str:
        """Slack-style ``seconds.micros`` timestamp, unique and strictly increasing workspace-wide."""
        now_us = int(self.clock() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def new_trigger(self, user_id: str) -> str:
        """A fresh trigger id for ``user_id``, usable once within ``trigger_ttl`` seconds."""
        self._counter += 1
        trigger_id = f"{int(self.clock())}.{self._counter}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(user_id, self.now())
        return trigger_id

    def check_trigger(self, trigger_id: Any) -> Trigger:
        """Raise Slack's error for an unknown, used or expired trigger; does not consume it.

        views.open documents ``invalid_trigger_id``, ``exchanged_trigger_id`` ("already exchanged in a
        previous call") and ``expired_trigger_id``.
        """
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.now() - trigger.created > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        return trigger

    def new_response_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        """The id of a fresh response URL for an interaction (``response_urls.respond`` answers it)."""
        url_id = secrets.token_hex(12)
        self.response_urls[url_id] = ResponseUrl(
            url_id, user_id, channel_id, message_ts, ephemeral, created=self.now()
        )
        return url_id

    # -- people and channels --------------------------------------------------------------------

    def user_by_dm(self, dm_id: str) -> User | None:
        return next((u for u in self.users.values() if u.dm_id == dm_id), None)

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def user_object(self, user: User) -> dict[str, Any]:
        """Slack's ``users.info`` user shape (the fields the bot may read)."""
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "real_name": user.real_name,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "profile": {
                "email": user.email,
                "real_name": user.real_name,
                "display_name": user.name,
                "real_name_normalized": user.real_name,
                "display_name_normalized": user.name,
            },
        }

    def channel_for_user_or_id(self, channel_or_user: str) -> str:
        """A user id means that person's DM; anything else is already a channel id."""
        return dm_channel_id(channel_or_user) if is_user_id(channel_or_user) else channel_or_user

    def _check_dm_user(self, user: User, where: str) -> None:
        if not user.messages_tab:
            raise SlackError("messages_tab_disabled")
        if user.deleted:
            # Slack accepts a message to a deactivated person: their conversations still exist (a Slack
            # engineer in python-slack-sdk issue 1156). Nobody will read it, so the emulator notes it.
            # (``account_inactive`` means the calling token's own account is gone, not the recipient.)
            self.warnings.append(f"{where}: {user.id} is deactivated; Slack accepts it but nobody reads it")

    def post_target(self, channel: Any) -> str:
        """Where chat.postMessage / postEphemeral puts a message, or Slack's error for ``channel``."""
        if not isinstance(channel, str) or not channel:
            raise SlackError("channel_not_found")
        if is_user_id(channel):
            user = self.users.get(channel)
            if user is None:
                raise SlackError("channel_not_found")
            self._check_dm_user(user, f"message to {channel}")
            return user.dm_id
        if is_dm_channel(channel):
            dm_user = self.user_by_dm(channel)
            if dm_user is None:
                raise SlackError("channel_not_found")
            self._check_dm_user(dm_user, f"message to {channel}")
            return channel
        found = self.channels.get(channel)
        if found is None:
            raise SlackError("channel_not_found")
        if found.is_archived:
            raise SlackError("is_archived")
        # chat:write.public lets the bot post in any public channel; private ones need membership.
        if found.is_private and not found.bot_is_member:
            raise SlackError("not_in_channel")
        return found.id

    def readable_channel(self, channel: Any) -> str:
        """A channel id the bot may read (conversations.history); user ids are not accepted."""
        if not isinstance(channel, str) or not channel:
            raise SlackError("channel_not_found")
        if is_dm_channel(channel):
            if self.user_by_dm(channel) is None:
                raise SlackError("channel_not_found")
            return channel
        found = self.channels.get(channel)
        if found is None:
            raise SlackError("channel_not_found")
        # Reading history needs membership even in public channels (chat:write.public only lets the bot
        # post there); conversations.join makes the bot a member of a public channel.
        if not found.bot_is_member:
            raise SlackError("not_in_channel")
        return found.id

    # -- messages --------------------------------------------------------------------------------

    def with_generated_ids(self, blocks: Any) -> list[dict[str, Any]]:
        """Copy of ``blocks`` with the ``block_id``/``action_id`` Slack generates when they are missing."""
        if not isinstance(blocks, list):
            return []
        result = copy.deepcopy(blocks)
        for block in result:
            if isinstance(block, dict) and not block.get("block_id"):
                block["block_id"] = random_id("", 5)
        for found in iter_elements(result):
            element = found.element
            if isinstance(element, dict) and element.get("type") != "image" and not element.get("action_id"):
                element["action_id"] = random_id("", 5)
        return result

    def clip_text(self, text: Any, where: str) -> Any:
        """Slack truncates (rather than rejects) message text over 40,000 chars."""
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
            self.warnings.append(f"{where}: text of {len(text)} chars truncated to {MESSAGE_TEXT_MAX}")
            return text[:MESSAGE_TEXT_MAX]
        return text

    def reject_invalid(self, where: str, message: dict[str, Any]) -> None:
        """Record and raise ``invalid_blocks`` when ``message`` (text + blocks) breaks a Block Kit limit."""
        problems = check_message(message)
        if problems:
            self.violations.extend(f"{where}: {problem}" for problem in problems)
            raise SlackError(
                "invalid_blocks",
                errors=problems,
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )

    def store_message(
        self,
        channel_id: str,
        text: str | None,
        blocks: Any,
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        """Store a message from the bot in ``channel_id`` and return its record. A thread reply sent with
        ``broadcast`` (chat.postMessage's reply_broadcast) is also shown in the channel, as Slack marks
        it: subtype ``thread_broadcast``."""
        message: dict[str, Any] = {
            "type": "message",
            "channel": channel_id,
            "ts": self.next_ts(),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": text or "",
            "blocks": self.with_generated_ids(blocks),
            "thread_ts": thread_ts,
            "edited": [],
        }
        if thread_ts and broadcast:
            message["subtype"] = "thread_broadcast"
        if metadata is not None:
            message["metadata"] = copy.deepcopy(metadata)
        self.messages.setdefault(channel_id, []).append(message)
        return message

    def find_message(self, channel_id: str, ts: Any) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel_id, []) if m["ts"] == ts), None)

    def edit(self, record: dict[str, Any], changes: dict[str, Any]) -> None:
        """Apply ``changes`` to a message (or ephemeral) record, keeping the previous version."""
        previous = {key: copy.deepcopy(record.get(key)) for key in ("text", "blocks", "metadata")}
        previous["edited_ts"] = self.next_ts()
        record["edited"].append(previous)
        for key, value in changes.items():
            record[key] = self.with_generated_ids(value) if key == "blocks" else copy.deepcopy(value)

    def api_message(self, message: dict[str, Any], include_metadata: bool = True) -> dict[str, Any]:
        """The message as the Web API shows it (internal bookkeeping stripped)."""
        shown = {
            key: copy.deepcopy(value)
            for key, value in message.items()
            if key not in ("channel", "edited", "metadata") and value is not None
        }
        if not shown.get("blocks"):
            shown.pop("blocks", None)
        if include_metadata and message.get("metadata") is not None:
            shown["metadata"] = copy.deepcopy(message["metadata"])
        if message.get("edited"):
            shown["edited"] = {"user": self.bot_user_id, "ts": message["edited"][-1]["edited_ts"]}
        return shown

    def store_ephemeral(
        self, channel_id: str, user_id: str, text: Any, blocks: Any, source: str, thread_ts: Any = None
    ) -> dict[str, Any]:
        """Store an ephemeral message only ``user_id`` sees; ``source`` names the method that sent it."""
        record: dict[str, Any] = {
            "type": "ephemeral",
            "channel": channel_id,
            "user": user_id,
            "ts": self.next_ts(),
            "text": text or "",
            "blocks": self.with_generated_ids(blocks),
            "thread_ts": thread_ts,
            "source": source,
            "edited": [],
        }
        self.ephemerals.append(record)
        return record
