"""The test suite's ``SlackDriver``: the shipped driver plus everything else Slack sends an app.

Events API deliveries (``app_home_opened``, ``user_change``, retried deliveries), global shortcuts,
options requests for external selects, and clicks on buttons in ephemeral messages, modals and Home
tabs. Each goes out the way Slack sends it, signed, through the shipped driver's ``raw`` transport.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from typing import Any

from bot.emulator import driver
from bot.emulator.driver import JSON, VERIFICATION_TOKEN, Reply, action_ts
from bot.emulator.walk import one_button

from .emulator import SlackEmulator


def _is_holding(reply: Reply) -> bool:
    """Whether the ack is the bot's holding reply (bot/slack/responder.py), the real answer to follow."""
    text = (reply.json or {}).get("text")
    return reply.ok and isinstance(text, str) and text.startswith("⏳ Working on it")


# How many times a person types again into a menu whose options missed Slack's deadline.
OPTIONS_RETYPES = 3


class SlackDriver(driver.SlackDriver):
    """``bot.emulator.SlackDriver`` for tests: also events, shortcuts, options and clicks in views."""

    emulator: SlackEmulator  # ephemerals and Home tabs are looked up in the test emulator

    # -- slash commands --------------------------------------------------------------------------

    def command(  # type: ignore[override]
        self,
        user_id: str,
        text: str,
        command: str = "/access",
        channel_id: str = "C0GENERAL",
        user_name: str | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
        final: bool = True,
    ) -> Reply:
        """Type ``command text``. When the bot answered with its holding reply ("Working on it": it
        answers in the ack only if the work finished within its ack budget, which a busy machine can
        exceed), the reply returned is the answer it then posted to the response_url, as the person
        would read it; ``final=False`` returns the ack itself."""
        reply = super().command(user_id, text, command, channel_id, user_name, sign=sign, timestamp=timestamp)
        if not final or not _is_holding(reply) or reply.response_url is None:
            return reply
        url = reply.response_url
        posts = self.emulator.wait_for(lambda: self.emulator.responses(url), timeout=30)
        answer = posts[0]["body"]
        return dataclasses.replace(reply, body=json.dumps(answer), json=answer)

    # -- shortcuts -------------------------------------------------------------------------------

    def shortcut(
        self, user_id: str, callback_id: str, *, sign: bool = True, timestamp: int | None = None
    ) -> Reply:
        """Run a global shortcut (lightning-bolt menu) as ``user_id``."""
        trigger_id = self.emulator.new_trigger_id(user_id)
        payload = {
            "type": "shortcut",
            "token": VERIFICATION_TOKEN,
            "action_ts": action_ts(),
            "team": self._team(),
            "user": self._user(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
        }
        return self._interaction(
            payload, sign=sign, timestamp=timestamp, reply_extras={"trigger_id": trigger_id}
        )

    # -- clicks in ephemeral messages and views --------------------------------------------------

    def click_button_in_ephemeral(
        self,
        user_id: str,
        action_id: str,
        index: int = -1,
        value_contains: str | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Press a button in an ephemeral message the person saw (latest by default)."""
        shown = self.emulator.ephemerals(user_id)
        if not shown:
            raise AssertionError(f"no ephemeral messages for {user_id}")
        return self.press_in_message(
            user_id, action_id, shown[index], value_contains, ephemeral=True, sign=sign, timestamp=timestamp
        )

    def click_button_in_view(
        self,
        user_id: str,
        view_id_or_home: str,
        action_id: str,
        value_contains: str | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Press a button in a modal (by view id) or in the person's Home tab (``"home"``)."""
        view = (
            self.emulator.home(user_id) if view_id_or_home == "home" else self.emulator.view(view_id_or_home)
        )
        if view is None:
            raise AssertionError(f"no view {view_id_or_home!r} for {user_id}")
        button = one_button(view.get("blocks"), action_id, value_contains, f"view {view['id']}")
        return self.click(
            user_id, action_id, button.value, button.block_id or "", view=view, sign=sign, timestamp=timestamp
        )

    # -- events ----------------------------------------------------------------------------------

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Deliver an Events API ``event_callback``; ``retry_num`` makes it a retried delivery."""
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.emulator.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        reply = self.raw(json.dumps(envelope).encode(), headers, JSON, sign=sign, timestamp=timestamp)
        reply.sent = envelope
        return reply

    def app_home_opened(
        self,
        user_id: str,
        event_id: str | None = None,
        retry_num: int | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """The person opened the app's Home tab."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.emulator.dm_channel_id(user_id),
            "tab": "home",
            "event_ts": action_ts(),
        }
        home = self.emulator.home(user_id)
        if home is not None:
            event["view"] = self.emulator.api_view(home)
        return self.event(event, event_id=event_id, retry_num=retry_num, sign=sign, timestamp=timestamp)

    def user_change(
        self,
        user_id: str,
        event_id: str | None = None,
        retry_num: int | None = None,
        *,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Slack's ``user_change`` event for a person as the emulator has them now (``users:read``).

        Change the person first (``emulator.set_user(user_id, deleted=True)`` for a deactivation); the
        event carries the whole users.info user object, with ``deleted``.
        """
        user = self.emulator.user_info(user_id)
        if user is None:
            raise AssertionError(f"no user {user_id} in the emulator")
        event: dict[str, Any] = {
            "type": "user_change",
            "user": user,
            "cache_ts": int(time.time()),
            "event_ts": action_ts(),
        }
        return self.event(event, event_id=event_id, retry_num=retry_num, sign=sign, timestamp=timestamp)

    def options(
        self,
        user_id: str,
        action_id: str,
        value: Any = "",
        *,
        view: dict[str, Any] | None = None,
        block_id: str = "b",
        sign: bool = True,
        timestamp: int | None = None,
    ) -> Reply:
        """Type ``value`` into the external select ``action_id``: Slack's ``block_suggestion`` request to
        the options load URL. ``view`` is the stored modal holding the menu (Slack sends it along);
        ``value`` goes out as given, so a test can send junk. The bot answers ``{"options": [...]}``
        in ``reply.json``.
        """
        payload = self._envelope(
            "block_suggestion", user_id, None,
            action_id=action_id, block_id=block_id, value=value, action_ts=action_ts(),
        )  # fmt: skip
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = self.emulator.api_view(view)
        reply = self._interaction(payload, sign=sign, timestamp=timestamp, reply_extras={})
        for _ in range(OPTIONS_RETYPES):
            # An empty 200 is Bolt's answer when the listener missed Slack's 3-second deadline (a loaded
            # machine): Slack shows the menu empty and the person types again, as here.
            if not (reply.status == 200 and reply.body == ""):
                break
            payload["action_ts"] = action_ts()
            reply = self._interaction(payload, sign=sign, timestamp=None, reply_extras={})
        return reply
