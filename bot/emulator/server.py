"""``SlackEmulator``: a stateful fake of the Slack Web API over real HTTP.

The bot talks to it through an unmodified ``slack_sdk.WebClient(base_url=emulator.url)``, so the
HTTP encoding, error handling and retry behaviour under test are the real ones. It remembers what the
bot posted (messages, ephemerals, modals, Home tabs, response_url replies), enforces Block Kit limits,
and can be told to rate-limit, fail or stall. It ships inside the package because ``accessbot demo``
runs it in-process; the end-to-end tests use it the same way.

Routes: ``POST /api/<method>`` (Web API, bearer token required) and ``POST /response/<id>``
(response URLs, no auth, like hooks.slack.com).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from . import webapi
from .faults import FaultPlan
from .limits import check_view
from .workspace import Channel, User, Workspace, dm_channel_id

T = TypeVar("T")

# Parameters that slack_sdk (or a form post) may send as JSON text rather than as JSON values.
_JSON_PARAMS = ("blocks", "view", "metadata", "attachments")


@dataclass
class Call:
    """One Web API request as the emulator saw and answered it."""

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.time)


class SlackEmulator:
    """Fake Slack workspace + Web API. Start it, point the bot's WebClient at ``url``, inspect state."""

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
        self._lock = threading.RLock()
        self._state = Workspace(
            team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id, trigger_ttl=trigger_ttl
        )
        self._faults = FaultPlan()
        self._calls: list[Call] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer((self._host, self._port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() fast (the default 0.5 s adds up over a test suite).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # cuts injected hangs short so shutdown does not wait for them
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
        if self._server is None:
            raise RuntimeError("SlackEmulator is not started")
        return f"http://{self._host}:{self._server.server_address[1]}/"

    @property
    def url(self) -> str:
        """Base URL for ``slack_sdk.WebClient(base_url=...)``."""
        return self.root_url + "api/"

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
        with self._lock:
            self._state.users[user_id] = User(
                user_id, name, email, real_name or name, deleted, messages_tab, is_bot
            )

    def set_user(self, user_id: str, **changes: Any) -> None:
        """Change a person mid-test (e.g. ``deleted=True`` to model a deactivation)."""
        with self._lock:
            user = self._state.users[user_id]
            for key, value in changes.items():
                if not hasattr(user, key):
                    raise AttributeError(f"User has no field {key!r}")
                setattr(user, key, value)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        is_private: bool = False,
        is_archived: bool = False,
        bot_is_member: bool = True,
    ) -> None:
        with self._lock:
            self._state.channels[channel_id] = Channel(
                channel_id, name, is_private, is_archived, bot_is_member
            )

    def set_channel(self, channel_id: str, **changes: Any) -> None:
        """Change a channel mid-test (e.g. ``is_archived=True``)."""
        with self._lock:
            channel = self._state.channels[channel_id]
            for key, value in changes.items():
                if not hasattr(channel, key):
                    raise AttributeError(f"Channel has no field {key!r}")
                setattr(channel, key, value)

    @staticmethod
    def dm_channel_id(user_id: str) -> str:
        """The DM channel id the emulator uses for ``user_id`` (``D`` + the id without its first letter)."""
        return dm_channel_id(user_id)

    def user_info(self, user_id: str) -> dict[str, Any] | None:
        """The users.info object for a person, or None."""
        with self._lock:
            user = self._state.users.get(user_id)
            return None if user is None else self._state.user_object(user)

    def new_response_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        """A response URL for an interaction by ``user_id`` in ``channel_id``.

        ``message_ts`` names the message the interaction came from, so ``replace_original`` /
        ``delete_original`` act on it (an ephemeral one when ``ephemeral``). Like Slack's, it works 5
        times within 30 minutes (see ``advance``); after that it answers HTTP 404 ``used_url`` or
        ``expired_url``, and an unknown one 404 ``no_service``.
        """
        with self._lock:
            url_id = self._state.new_response_url(user_id, channel_id, message_ts, ephemeral)
        return f"{self.root_url}response/{url_id}"

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward by ``seconds``, as if that much time had passed.

        Trigger ids (``trigger_ttl``) and response URLs (30 minutes, 5 uses) expire by this clock, so a
        test reaches "31 minutes later" without sleeping. Message ``ts`` values and rate limits keep
        following real time.
        """
        with self._lock:
            self._state.advance(seconds)

    def new_trigger_id(self, user_id: str) -> str:
        """A trigger id valid once, for ``trigger_ttl`` seconds (like the one in a slash command)."""
        with self._lock:
            return self._state.new_trigger(user_id)

    def close_view(self, view_id: str, whole_stack: bool = False) -> None:
        """Mark a modal closed (the person pressed Cancel/X, or a submission closed it)."""
        with self._lock:
            self._state.close_view(view_id, whole_stack)

    def apply_view_response(self, view_id: str, ack: dict[str, Any] | None) -> list[str]:
        """What Slack does with a view_submission ack: update/push/clear/errors, else close.

        Returns Block Kit violations of an update/push view (also recorded in ``violations``).
        """
        ack = ack or {}
        action = ack.get("response_action")
        with self._lock:
            view = self._state.views.get(view_id)
            if view is None or action == "errors":
                return []
            if action in ("update", "push"):
                spec = ack.get("view")
                problems = check_view(spec) if isinstance(spec, dict) else ["view: missing"]
                if problems:
                    self._state.violations.extend(f"response_action={action}: {p}" for p in problems)
                    return problems
                assert isinstance(spec, dict)
                if action == "update":
                    self._state.replace_view_content(view, spec)
                else:
                    pushed = self._state.build_view(spec, view["user_id"])
                    pushed["root_view_id"], pushed["previous_view_id"] = view["root_view_id"], view["id"]
                    self._state.views[pushed["id"]] = pushed
                    self._state.modal_order.append(pushed["id"])
                return []
            self._state.close_view(view_id, whole_stack=action == "clear")
            return []

    # -- faults ----------------------------------------------------------------------------------

    def set_rate_limit(
        self,
        method: str,
        per_minute: float | None = None,
        per_second: float | None = None,
        retry_after: int = 1,
        burst: int | None = None,
    ) -> None:
        """Workspace-wide token bucket for ``method``; over it: HTTP 429 + Retry-After, call not applied.

        The burst defaults to one window's worth, so ``per_minute=3`` allows 3 calls at once and then
        one every 20 s. Call with neither rate to remove the limit.
        """
        with self._lock:
            self._faults.set_rate_limit(method, per_minute, per_second, retry_after, burst)

    def set_channel_rate_limit(
        self, per_second: float | None = 1.0, burst: int = 3, retry_after: int = 1
    ) -> None:
        """chat.postMessage limit per channel (Slack: about one per second, short bursts); None disables."""
        with self._lock:
            self._faults.set_channel_rate_limit(per_second, burst, retry_after)

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 500,
        error: str = "internal_error",
        retry_after: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls (only those about ``channel``/user, if given) with an error."""
        with self._lock:
            self._faults.fail_next(method, count, status, error, retry_after, channel)

    def hang_next(self, method: str, seconds: float, count: int = 1, apply: bool = True) -> None:
        """Answer the next ``count`` calls ``seconds`` late.

        ``apply=True``: the call takes effect at once and only the answer is late ("Slack did it but the
        client timed out"). ``apply=False``: nothing happens and the late answer is HTTP 504
        ``request_timeout`` ("the request was lost").
        """
        with self._lock:
            self._faults.hang_next(method, seconds, count, apply)

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._faults.latency = seconds

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- recorded traffic ------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    @property
    def violations(self) -> list[str]:
        """Every Block Kit violation the bot has sent (rejected messages and views)."""
        with self._lock:
            return list(self._state.violations)

    @property
    def warnings(self) -> list[str]:
        """Things Slack accepts but changes or nobody will see (text truncated at 40,000 chars, a DM to
        a deactivated person)."""
        with self._lock:
            return list(self._state.warnings)

    # -- queries ---------------------------------------------------------------------------------

    def messages(self, channel_or_user_id: str) -> list[dict[str, Any]]:
        """Stored messages in post order; a user id means that person's DM.

        Each is a dict with ``channel, ts, user, text, blocks, thread_ts, edited`` (list of previous
        versions, oldest first) and ``metadata`` when given.
        """
        with self._lock:
            channel = self._state.channel_for_user_or_id(channel_or_user_id)
            return copy.deepcopy(self._state.messages.get(channel, []))

    def dm_texts(self, user_id: str) -> list[str]:
        return [m["text"] for m in self.messages(user_id)]

    def channel_texts(self, channel_id: str) -> list[str]:
        return [m["text"] for m in self.messages(channel_id)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._state.find_message(self._state.channel_for_user_or_id(channel), ts)
            return copy.deepcopy(found)

    def find_messages(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Messages in every channel and DM matching ``predicate``, in ts order."""
        with self._lock:
            everything = [m for msgs in self._state.messages.values() for m in msgs]
            snapshot = copy.deepcopy(sorted(everything, key=lambda m: Decimal(m["ts"])))
        return [m for m in snapshot if predicate(m)]

    def deleted_messages(self) -> list[dict[str, Any]]:
        """Messages removed through ``delete_original``."""
        with self._lock:
            return copy.deepcopy(self._state.deleted_messages)

    def ephemerals(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and response_url replies), oldest first.

        Each has ``channel, user, ts, text, blocks, source`` (``chat.postEphemeral`` or ``response_url``)
        and ``edited`` (previous versions after ``replace_original``).
        """
        with self._lock:
            return copy.deepcopy(
                [e for e in self._state.ephemerals if user_id is None or e["user"] == user_id]
            )

    def responses(self, url_or_id: str | None = None) -> list[dict[str, Any]]:
        """POSTs to response URLs: ``url_id, at, raw, body, status, answer, result`` each."""
        with self._lock:
            if url_or_id is None:
                posts = [p for r in self._state.response_urls.values() for p in r.posts]
                return copy.deepcopy(sorted(posts, key=lambda p: p["at"]))
            target = self._state.response_urls.get(url_or_id.rstrip("/").rsplit("/", 1)[-1])
            return copy.deepcopy(target.posts) if target else []

    def views_opened(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Modals (opened or pushed) in order, current content; ``closed`` tells whether still shown."""
        with self._lock:
            views = [self._state.views[v] for v in self._state.modal_order]
            return copy.deepcopy([v for v in views if user_id is None or v["user_id"] == user_id])

    def open_modals(self, user_id: str) -> list[dict[str, Any]]:
        """The person's modal stack as currently shown, bottom first."""
        with self._lock:
            return copy.deepcopy(self._state.open_stack(user_id))

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The person's Home tab view as last published, or None."""
        with self._lock:
            view_id = self._state.home_by_user.get(user_id)
            return copy.deepcopy(self._state.views[view_id]) if view_id else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._state.views.get(view_id))

    def api_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as Slack shows it in payloads and history (bookkeeping stripped)."""
        with self._lock:
            return self._state.api_message(message)

    def api_view(self, view: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._state.api_view(view)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 20.0,
        interval: float = 0.02,
        message: str | None = None,
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; return that value.

        LookupError/AssertionError raised by the predicate count as "not yet" (so ``lambda:
        emu.dm_texts(u)[0]`` works). On timeout, raises AssertionError with the recent calls.
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

    # -- request handling (called from server threads) -----------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _handle_api(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Authenticate, apply faults, run the method, record the call, then answer (late if hung)."""
        received = time.time()
        status, body, headers, delay = self._dispatch(method, params, authorization)
        with self._lock:
            # Recorded before an injected hang, so a test sees the call while the client is waiting.
            self._calls.append(Call(method, copy.deepcopy(params), status, copy.deepcopy(body), received))
        self._sleep(delay)
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
        with self._lock:
            latency = self._faults.latency
        self._sleep(latency)
        with self._lock:
            rule = self._faults.take_failure(method, self._state.targets(params))
            if rule is not None:
                headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
                return rule.status, {"ok": False, "error": rule.error}, headers, 0.0
            retry_after = self._faults.take_rate(method, self._rate_key(method, params))
            if retry_after is not None:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}, 0.0
            hang = self._faults.take_hang(method)
            if hang is not None and not hang.apply:
                result = (504, {"ok": False, "error": "request_timeout"})
            else:
                result = webapi.call(self._state, method, params)
        return result[0], result[1], {}, hang.seconds if hang is not None else 0.0

    def _rate_key(self, method: str, params: dict[str, Any]) -> str | None:
        """The channel a chat.postMessage lands in (the DM for a user id), for the per-channel limit."""
        if method != "chat.postMessage":
            return None
        channel = params.get("channel")
        return self._state.channel_for_user_or_id(channel) if isinstance(channel, str) and channel else None

    def _handle_response_url(self, url_id: str, raw: bytes) -> tuple[int, str]:
        with self._lock:
            return self._state.respond(url_id, raw)


def decode_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query-string and body parameters (JSON or form-encoded), decoding JSON-valued fields."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        if "json" in content_type:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            params.update(decoded)
        else:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Left as text when it does not parse: the method then reports it as malformed.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _make_handler(emulator: SlackEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "SlackEmulator/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the call log is the record; stderr noise would drown test output

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            path = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                if path.path.startswith("/api/"):
                    self._api(path.path.removeprefix("/api/"), path.query, raw)
                elif path.path.startswith("/response/"):
                    status, text = emulator._handle_response_url(path.path.removeprefix("/response/"), raw)
                    self._send(status, text.encode(), "text/plain; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain; charset=utf-8")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. timed out during an injected hang)

        def _api(self, method: str, query: str, raw: bytes) -> None:
            try:
                params = decode_params(query, raw, self.headers.get("Content-Type", ""))
            except (ValueError, UnicodeDecodeError):
                self._json(200, {"ok": False, "error": "invalid_json"}, {})
                return
            status, body, headers = emulator._handle_api(method, params, self.headers.get("Authorization"))
            self._json(status, body, headers)

        def _json(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

        def _send(
            self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
