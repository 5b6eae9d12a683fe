"""``SlackEmulator``: a stateful fake of the Slack Web API over real HTTP.

The bot talks to it through an unmodified ``slack_sdk.WebClient(base_url=emulator.url)``, so the
HTTP encoding, error handling and retry behaviour are the real ones. It remembers what the bot posted
(messages, ephemerals, modals, Home tabs, response_url replies) and enforces Block Kit limits. It ships
inside the package because ``accessbot demo`` runs it in-process.

Two extension points let a subclass make it misbehave on purpose (the test suite's fault injection):
``before_call`` may hold a call back before it runs, and ``intercept`` may answer a call instead of
running it, or answer late.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, TypeVar

from . import response_urls, views, webapi
from .handler import make_handler
from .workspace import Channel, User, Workspace

T = TypeVar("T")


@dataclass
class Call:
    """One Web API request as the emulator saw and answered it (``at``: wall-clock seconds)."""

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Intercept:
    """What ``SlackEmulator.intercept`` decided about one Web API call.

    ``answer`` is (HTTP status, body, headers) to send instead of running the method (which is then
    not applied); ``delay`` holds the answer back that many seconds after the call was handled.
    """

    answer: tuple[int, dict[str, Any], dict[str, str]] | None = None
    delay: float = 0.0


class SlackEmulator:
    """Fake Slack workspace + Web API. Start it, point the bot's WebClient at ``url``, inspect state.

    ``workspace`` is the state, guarded by ``lock`` (reentrant); the HTTP server threads and every
    method here take the lock around each access.
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0ACCESS",
        bot_user_id: str = "U0ACCESSBOT",
        trigger_ttl: float = 3.0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_id: str = "B0ACCESSBOT",
        app_id: str = "A0ACCESSBOT",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self._host, self._port = host, port
        self.lock = threading.RLock()
        self.workspace = Workspace(
            team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id, trigger_ttl=trigger_ttl
        )
        self._calls: list[Call] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        """Serve on ``host:port`` (port 0: any free one) in a daemon thread; a no-op when running."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer((self._host, self._port), make_handler(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() fast (the default 0.5 s adds up over a test suite).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (cutting short any answer held back by ``pause``); a no-op when stopped."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://host:port/``; raises RuntimeError before ``start``."""
        if self._server is None:
            raise RuntimeError("SlackEmulator is not started")
        return f"http://{self._host}:{self._server.server_address[1]}/"

    @property
    def url(self) -> str:
        """Base URL for ``slack_sdk.WebClient(base_url=...)``."""
        return self.root_url + "api/"

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` in a server thread, returning at once when the emulator stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    # -- workspace setup -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        email: str,
        real_name: str | None = None,
        deleted: bool = False,
        messages_tab: bool = True,
        is_bot: bool = False,
    ) -> None:
        """Add a person (``real_name`` defaults to ``name``); their DM channel exists from the start."""
        with self.lock:
            self.workspace.users[user_id] = User(
                user_id, name, email, real_name or name, deleted, messages_tab, is_bot
            )

    def add_channel(
        self,
        channel_id: str,
        name: str,
        is_private: bool = False,
        is_archived: bool = False,
        bot_is_member: bool = True,
    ) -> None:
        """Add a channel; the bot may post in a public one even when it is not a member."""
        with self.lock:
            self.workspace.channels[channel_id] = Channel(
                channel_id, name, is_private, is_archived, bot_is_member
            )

    def user_info(self, user_id: str) -> dict[str, Any] | None:
        """The users.info object for a person, or None."""
        with self.lock:
            user = self.workspace.users.get(user_id)
            return None if user is None else self.workspace.user_object(user)

    # -- what Slack hands out with an interaction ------------------------------------------------

    def new_response_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        """A response URL for an interaction by ``user_id`` in ``channel_id``.

        ``message_ts`` names the message the interaction came from, so ``replace_original`` /
        ``delete_original`` act on it (an ephemeral one when ``ephemeral``). Like Slack's, it works 5
        times within 30 minutes; after that it answers HTTP 404 ``used_url`` or ``expired_url``, and an
        unknown one 404 ``no_service``.
        """
        with self.lock:
            url_id = self.workspace.new_response_url(user_id, channel_id, message_ts, ephemeral)
        return f"{self.root_url}response/{url_id}"

    def new_trigger_id(self, user_id: str) -> str:
        """A trigger id valid once, for ``trigger_ttl`` seconds (like the one in a slash command)."""
        with self.lock:
            return self.workspace.new_trigger(user_id)

    def apply_view_response(self, view_id: str, ack: dict[str, Any] | None) -> list[str]:
        """What Slack does with a view_submission ack: update/push/clear/errors, else close.

        Returns Block Kit violations of an update/push view (also recorded in ``violations``).
        """
        with self.lock:
            return views.apply_submission_ack(self.workspace, view_id, ack)

    # -- what the bot did ------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Web API calls in the order they were answered, all or those of ``method``."""
        with self.lock:
            return [copy.deepcopy(c) for c in self._calls if method is None or c.method == method]

    @property
    def violations(self) -> list[str]:
        """Every Block Kit violation the bot has sent (rejected messages and views)."""
        with self.lock:
            return list(self.workspace.violations)

    def messages(self, channel_or_user_id: str) -> list[dict[str, Any]]:
        """Stored messages in post order; a user id means that person's DM.

        Each is a dict with ``channel, ts, user, text, blocks, thread_ts, edited`` (list of previous
        versions, oldest first) and ``metadata`` when given.
        """
        with self.lock:
            channel = self.workspace.channel_for_user_or_id(channel_or_user_id)
            return copy.deepcopy(self.workspace.messages.get(channel, []))

    def views_opened(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Modals (opened or pushed) in order, current content; ``closed`` tells whether still shown."""
        with self.lock:
            opened = [self.workspace.views[v] for v in self.workspace.modal_order]
            return copy.deepcopy([v for v in opened if user_id is None or v["user_id"] == user_id])

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A stored modal or Home tab by id, or None."""
        with self.lock:
            return copy.deepcopy(self.workspace.views.get(view_id))

    def api_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as Slack shows it in payloads and history (bookkeeping stripped)."""
        with self.lock:
            return self.workspace.api_message(message)

    def api_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """A stored view as Slack shows it in payloads (bookkeeping stripped)."""
        with self.lock:
            return views.api_view(view)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 20.0,
        interval: float = 0.02,
        message: str | None = None,
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; return that value.

        LookupError/AssertionError raised by the predicate count as "not yet" (so ``lambda:
        emu.messages(u)[0]`` works). On timeout, raises AssertionError with the recent calls.
        """
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except (LookupError, AssertionError) as exc:
                last_error = exc
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        recent = ", ".join(
            f"{c.method}->{c.status}:{c.response.get('error', 'ok')}" for c in self.calls()[-10:]
        )
        details = [message or getattr(predicate, "__name__", "condition"), f"not met within {timeout}s"]
        if last_error is not None:
            details.append(f"last error: {type(last_error).__name__}: {last_error}")
        details.append(f"recent calls: [{recent}]")
        if self.violations:
            details.append(f"violations: {self.violations[-5:]}")
        raise AssertionError("; ".join(details))

    # -- extension points ------------------------------------------------------------------------

    def before_call(self, method: str) -> None:
        """Called for each authenticated Web API call before it runs, without the lock; may block."""

    def intercept(self, method: str, params: dict[str, Any]) -> Intercept | None:
        """Called with the lock held right before an authenticated Web API call runs.

        None lets the method run and answer at once; an ``Intercept`` replaces or delays the answer.
        """
        return None

    # -- request handling (called from server threads) -----------------------------------------

    def handle_api(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Authenticate, run the method, record the call, then answer: (status, body, headers)."""
        received = time.time()
        status, body, headers, delay = self._dispatch(method, params, authorization)
        with self.lock:
            # Recorded before a delayed answer, so the call shows while the client is still waiting.
            self._calls.append(Call(method, copy.deepcopy(params), status, copy.deepcopy(body), received))
        self.pause(delay)
        return status, body, headers

    def _dispatch(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str], float]:
        """(status, body, headers, seconds to wait before answering)."""
        if method not in webapi.METHODS:
            return 200, {"ok": False, "error": "unknown_method"}, {}, 0.0
        if not authorization:
            return 200, {"ok": False, "error": "not_authed"}, {}, 0.0
        if authorization != f"Bearer {self.bot_token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}, 0.0
        self.before_call(method)
        with self.lock:
            decision = self.intercept(method, params) or Intercept()
            if decision.answer is not None:
                status, body, headers = decision.answer
                return status, body, headers, decision.delay
            status, body = webapi.call(self.workspace, method, params)
        return status, body, {}, decision.delay

    def handle_response_url(self, url_id: str, raw: bytes) -> tuple[int, str]:
        """A POST to response URL ``url_id``: (HTTP status, text body), like hooks.slack.com."""
        with self.lock:
            return response_urls.respond(self.workspace, url_id, raw)
