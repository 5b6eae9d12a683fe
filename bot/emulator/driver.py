"""``SlackDriver``: plays Slack's side towards the bot's HTTP endpoint.

It sends what Slack sends when a person types a slash command, clicks a button or submits a modal:
the same encodings (form fields, ``payload=<json>``), signed with the app's signing secret, over real
HTTP. Response URLs and trigger ids come from the emulator, so whatever the bot does with them lands
in the emulator, where the demo (or a test) looks at it. ``raw`` sends any body, so a subclass can add
the other kinds of request (events, shortcuts, options) the same way.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.domain.recipient import is_dm_channel

from .server import SlackEmulator
from .view_state import build_state
from .walk import one_button

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Slack's (deprecated) verification token travels in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "verification-token"


@dataclass
class Reply:
    """The bot's HTTP answer to one request, plus what was sent (so tests can follow up on it)."""

    status: int
    body: str
    json: dict[str, Any] | None
    elapsed: float
    response_url: str | None = None
    trigger_id: str | None = None
    sent: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class SlackDriver:
    """Sends signed Slack requests (commands, clicks, submissions) to the bot over HTTP."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        team_id: str = "T0ACCESS",
        timeout: float = 10.0,
    ) -> None:
        self.app_url = app_url
        self.verifier = SignatureVerifier(signing_secret)
        self.emulator = emulator
        self.team_id = team_id
        self.team_domain = "accessbot-test"
        self.api_app_id = emulator.app_id
        self.timeout = timeout

    # -- transport -------------------------------------------------------------------------------

    def raw(
        self,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        content_type: str = JSON,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """POST ``body`` as is; signed unless ``sign=False``; ``timestamp`` forges the signing time."""
        all_headers = {"Content-Type": content_type}
        if sign:
            ts = str(int(time.time()) if timestamp is None else timestamp)
            signature = self.verifier.generate_signature(timestamp=ts, body=body.decode("utf-8"))
            all_headers["X-Slack-Request-Timestamp"] = ts
            all_headers["X-Slack-Signature"] = signature or ""
        all_headers.update(headers or {})
        request = urllib.request.Request(self.app_url, data=body, headers=all_headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as exc:  # 4xx/5xx are answers too (401 for a bad signature)
            status, data = exc.code, exc.read()
        elapsed = time.monotonic() - started
        text = data.decode("utf-8", "replace")
        return Reply(status, text, _parse_json(text), elapsed)

    def _form(self, fields: Mapping[str, Any], *, sign: bool, timestamp: int | None) -> Reply:
        return self.raw(urlencode(fields).encode(), content_type=FORM, sign=sign, timestamp=timestamp)

    def _interaction(
        self, payload: dict[str, Any], *, sign: bool, timestamp: int | None, reply_extras: dict[str, Any]
    ) -> Reply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        reply = self.raw(body, content_type=FORM, sign=sign, timestamp=timestamp)
        reply.sent = payload
        for key, value in reply_extras.items():
            setattr(reply, key, value)
        return reply

    # -- shared payload parts --------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        info = self.emulator.user_info(user_id)
        name = info["name"] if info else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def _envelope(self, kind: str, user_id: str, trigger_id: str | None, **fields: Any) -> dict[str, Any]:
        """An interaction payload of type `kind` from `user_id`, as Slack wraps every one, with `fields`
        (no `trigger_id` when None: Slack sends none with a block_suggestion)."""
        payload: dict[str, Any] = {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        if trigger_id is not None:
            payload["trigger_id"] = trigger_id
        return {**payload, **fields}

    def _channel(self, channel_id: str) -> dict[str, Any]:
        name = "directmessage" if is_dm_channel(channel_id) else channel_id.lower()
        return {"id": channel_id, "name": name}

    # -- slash commands --------------------------------------------------------------------------

    def command(
        self,
        user_id: str,
        text: str,
        command: str = "/access",
        channel_id: str = "C0GENERAL",
        user_name: str | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Type ``command text`` as ``user_id`` in ``channel_id``."""
        response_url = self.emulator.new_response_url(user_id, channel_id)
        trigger_id = self.emulator.new_trigger_id(user_id)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel(channel_id)["name"],
            "user_id": user_id,
            "user_name": user_name or self._user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        reply = self._form(fields, sign=sign, timestamp=timestamp)
        reply.response_url, reply.trigger_id, reply.sent = response_url, trigger_id, fields
        return reply

    # -- block actions ---------------------------------------------------------------------------

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        block_id: str = "b",
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        view: dict[str, Any] | None = None,
        selected_option: str | dict[str, Any] | None = None,
        *,
        ephemeral: bool = False,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """A ``block_actions`` click on a button (or a pick in a static select, with ``selected_option``).

        The container is the message (``message`` as stored by the emulator, or just ``channel_id``) or
        the view (a stored modal or Home tab). ``ephemeral=True`` marks the message as ephemeral, as
        for buttons in ephemeral replies; Slack then sends no ``message`` body.
        """
        if message is None and view is None and channel_id is None:
            raise ValueError("click needs a message, a channel_id or a view")
        trigger_id = self.emulator.new_trigger_id(user_id)
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "action_ts": action_ts()}
        if selected_option is None:
            action.update({"type": "button", "value": value})
        else:
            option = selected_option
            if isinstance(option, str):
                option = {"text": {"type": "plain_text", "text": option, "emoji": True}, "value": option}
            action.update({"type": "static_select", "selected_option": option})
        payload = self._envelope("block_actions", user_id, trigger_id, actions=[action])
        extras: dict[str, Any] = {"trigger_id": trigger_id}
        if view is not None and message is None and channel_id is None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = self.emulator.api_view(view)
        else:
            channel = channel_id or (message or {}).get("channel")
            if channel is None:
                raise ValueError("click: cannot tell the message's channel; pass channel_id")
            message_ts = (message or {}).get("ts")
            response_url = self.emulator.new_response_url(user_id, channel, message_ts, ephemeral=ephemeral)
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = self._channel(channel)
            payload["response_url"] = response_url
            extras["response_url"] = response_url
            if message is not None and not ephemeral:
                payload["message"] = self.emulator.api_message(message)
            if view is not None:
                payload["view"] = self.emulator.api_view(view)
        return self._interaction(payload, sign=sign, timestamp=timestamp, reply_extras=extras)

    def click_button_in_message(
        self,
        user_id: str,
        channel_or_user: str,
        action_id: str,
        message_index: int = -1,
        value_contains: str | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Press the button ``action_id`` in a stored message (latest by default) of a channel or DM.

        The click carries the button's real value and block_id, as when a person presses it.
        ``value_contains`` picks among several buttons with the same action_id.
        """
        messages = self.emulator.messages(channel_or_user)
        if not messages:
            raise AssertionError(f"no messages in {channel_or_user}")
        return self.press_in_message(
            user_id, action_id, messages[message_index], value_contains, sign=sign, timestamp=timestamp
        )

    def press_in_message(
        self,
        user_id: str,
        action_id: str,
        message: dict[str, Any],
        value_contains: str | None = None,
        *,
        ephemeral: bool = False,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Press the button ``action_id`` of ``message`` (a stored or ephemeral message), with the
        button's real value and block_id."""
        where = f"{'ephemeral' if ephemeral else 'message'} {message['ts']}"
        button = one_button(message.get("blocks"), action_id, value_contains, where)
        return self.click(
            user_id,
            action_id,
            button.value,
            button.block_id or "",
            message=message,
            ephemeral=ephemeral,
            sign=sign,
            timestamp=timestamp,
        )

    # -- view submission -------------------------------------------------------------------------

    def submit_view(
        self,
        user_id: str,
        view_id: str,
        values: Mapping[str, Any],
        *,
        apply_response: bool = True,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Submit a stored modal with ``values`` keyed by block_id or action_id of its input blocks.

        Values are plain: a string for text inputs and selects (the option value), a list for
        checkboxes / multi-selects, a user id for users_select, an int for datetimepicker. Inputs left
        out are submitted empty, as Slack does. With ``apply_response`` the bot's ack is applied to
        the emulator (update / push / errors / close), so the modal's fate is visible there.
        """
        view = self.emulator.view(view_id)
        if view is None:
            raise AssertionError(f"no view {view_id!r}")
        state = build_state(view, values)
        trigger_id = self.emulator.new_trigger_id(user_id)
        submitted = self.emulator.api_view(view)
        submitted["state"] = state
        payload = self._envelope("view_submission", user_id, trigger_id, view=submitted, response_urls=[])
        reply = self._interaction(
            payload, sign=sign, timestamp=timestamp, reply_extras={"trigger_id": trigger_id}
        )
        if apply_response and reply.ok:
            self.emulator.apply_view_response(view_id, reply.json)
        return reply


def action_ts() -> str:
    """An ``action_ts`` / ``event_ts`` for now: wall-clock seconds with microseconds."""
    return f"{time.time():.6f}"


def _parse_json(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
