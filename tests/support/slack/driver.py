"""The test suite's ``SlackDriver``: the shipped driver plus everything else Slack sends an app.

Events API deliveries (``app_home_opened``, ``user_change``, retried deliveries), global shortcuts,
options requests for external selects, and clicks on buttons in ephemeral messages, modals and Home
tabs. Each goes out the way Slack sends it, signed, through the shipped driver's ``raw`` transport.
``SlackDriver.across(urls, ...)`` spreads the requests over several replicas, as a load balancer in
front of them would; ``on(n)`` sends to the n-th only.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Sequence
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
    # Replicas requests are spread over, in turn (empty: every request goes to ``app_url``), and how
    # many requests each has been sent, shared by the copies ``on`` makes.
    replica_urls: tuple[str, ...] = ()
    served: Counter[str]
    _turn: Any = None
    _turn_guard: threading.Lock

    @classmethod
    def across(
        cls, urls: Sequence[str], signing_secret: str, emulator: SlackEmulator, **options: Any
    ) -> SlackDriver:
        """A driver that sends each request to the next of the replicas at `urls` in turn."""
        spread = cls(urls[0], signing_secret, emulator, **options)
        spread.replica_urls = tuple(urls)
        spread.served = Counter()
        spread._turn = itertools.cycle(urls)
        spread._turn_guard = threading.Lock()
        return spread

    def on(self, replica: int) -> SlackDriver:
        """This driver, sending every request to the `replica`-th replica only."""
        pinned = copy.copy(self)
        pinned.app_url = self.replica_urls[replica]
        pinned.replica_urls = ()
        return pinned

    def raw(self, body: bytes, *args: Any, **kwargs: Any) -> Reply:
        """The shipped transport (same arguments), to the next replica in turn when spreading over
        several."""
        if self.replica_urls:
            with self._turn_guard:
                url = next(self._turn)
            return self.on(self.replica_urls.index(url)).raw(body, *args, **kwargs)
        if hasattr(self, "served"):
            self.served[self.app_url] += 1
        return super().raw(body, *args, **kwargs)

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
