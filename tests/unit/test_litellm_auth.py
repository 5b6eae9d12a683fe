"""The LiteLLM custom_auth's side that asks AccessBot (bot/integrations/litellm_auth.py), against a small
HTTP server that answers as told: the settings it reads, and every way of getting no decision (it fails
closed). tests/e2e/test_litellm.py runs it inside a real proxy against a real bot."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("httpx", reason="needs the litellm extra: pip install -e '.[litellm]'")

from bot.integrations.litellm_auth import (
    DEFAULT_TIMEOUT,
    DecisionClient,
    NamesNoModel,
    Settings,
    Unanswered,
    configured_reach,
    fallback_names,
    read_settings,
)

TOKEN = "gw-5b1c9e2d7a4f8e3b6c0d1a2b3c4d5e6f"
ALLOWED = {
    "allow": True, "code": "allowed", "reason": "Grant G1 of Mythos 5, until 2026-12-08 09:30 UTC.",
    "user": "U0BORIS01", "model": "mythos-5", "grant_id": 1, "expires_at": "2026-12-08T09:30:00+00:00",
    "cache_seconds": 0,
}  # fmt: skip


class Answers(ThreadingHTTPServer):
    """Answers each POST with `status` and `body` after `delay` seconds, and keeps what it was asked."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status, self.body, self.delay = 200, json.dumps(ALLOWED).encode(), 0.0
        self.trickle = 0.0  # seconds between the bytes of the body, once the headers are out
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Answers

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        asked = json.loads(self.rfile.read(length))
        self.server.asked.append((self.path, self.headers["Authorization"], asked))
        time.sleep(self.server.delay)
        try:
            self.send_response(self.server.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.server.body)))
            self.end_headers()
            if not self.server.trickle:
                self.wfile.write(self.server.body)
            for byte in self.server.body if self.server.trickle else b"":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.server.trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting, as the timeout test means it to

    def log_message(self, format: str, *args: Any) -> None:  # the test's output stays quiet
        pass


@pytest.fixture
def accessbot() -> Iterator[Answers]:
    server = Answers()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def decide(url: str, timeout: float = 2.0) -> dict[str, Any]:
    client = DecisionClient(Settings(url + "/v1/access/check", TOKEN, timeout))
    return asyncio.run(client.decide("abk_k", "m"))


def test_settings_come_from_the_environment_and_name_what_is_wrong() -> None:
    good = {"ACCESSBOT_URL": "https://accessbot.example.com/", "ACCESSBOT_GATEWAY_TOKEN": TOKEN}
    assert read_settings(good) == Settings(
        "https://accessbot.example.com/v1/access/check", TOKEN, DEFAULT_TIMEOUT
    )
    assert read_settings({**good, "ACCESSBOT_TIMEOUT": "1.5"}) == Settings(
        "https://accessbot.example.com/v1/access/check", TOKEN, 1.5
    )
    for environ, problem in (
        ({}, "ACCESSBOT_URL must be"),
        ({**good, "ACCESSBOT_URL": "accessbot.example.com"}, "ACCESSBOT_URL must be"),
        ({**good, "ACCESSBOT_GATEWAY_TOKEN": " "}, "ACCESSBOT_GATEWAY_TOKEN is not set"),
        ({**good, "ACCESSBOT_TIMEOUT": "soon"}, "ACCESSBOT_TIMEOUT must be a number"),
        ({**good, "ACCESSBOT_TIMEOUT": "0"}, "ACCESSBOT_TIMEOUT must be more than 0"),
        # Plain http would carry the token and every key readable across the network.
        ({**good, "ACCESSBOT_URL": "http://accessbot.example.com"}, "ACCESSBOT_URL must use https://"),
        ({**good, "ACCESSBOT_URL": "http://10.0.0.7:3000"}, "ACCESSBOT_URL must use https://"),
    ):
        found = read_settings(environ)
        assert isinstance(found, str) and found.startswith(problem), (environ, found)
    # To this machine, or on a network its operators declare private, plain http is allowed.
    for url, extra in (
        ("http://127.0.0.1:3000", {}),
        ("http://localhost:3000", {}),
        ("http://[::1]:3000", {}),
        ("http://accessbot.internal:3000", {"ACCESSBOT_ALLOW_PLAIN_HTTP": "yes"}),
    ):
        assert read_settings({**good, "ACCESSBOT_URL": url, **extra}) == Settings(
            url + "/v1/access/check", TOKEN, DEFAULT_TIMEOUT
        )


def test_a_decision_is_asked_with_the_token_and_returned(accessbot: Answers) -> None:
    assert decide(accessbot.url) == ALLOWED
    assert accessbot.asked == [("/v1/access/check", f"Bearer {TOKEN}", {"key": "abk_k", "model": "m"})]


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (401, b'{"error": "send the gateway token"}', "AccessBot refused the gateway's token"),
        (503, b'{"error": "disabled"}', "AccessBot's decision API is turned off"),
        (500, b"<html>oops</html>", "AccessBot answered HTTP 500"),
        (302, b"", "AccessBot answered HTTP 302"),
        (200, b"<html>a login page</html>", "AccessBot's answer was not JSON"),
        (200, b"[true]", "AccessBot's answer was not a decision"),
        (200, b'{"allow": "yes", "code": "allowed", "reason": "x"}', "AccessBot's answer was not a decision"),
        (200, b'{"allow": true, "code": "allowed", "reason": " "}', "AccessBot's answer was not a decision"),
        (200, b'{"allow": true, "reason": "x"}', "AccessBot's answer was not a decision"),
    ],
)
def test_anything_but_a_decision_is_no_answer(
    accessbot: Answers, status: int, body: bytes, problem: str
) -> None:
    accessbot.status, accessbot.body = status, body
    with pytest.raises(Unanswered, match=f"^{problem}"):
        decide(accessbot.url)


def test_a_slow_or_absent_accessbot_is_no_answer(accessbot: Answers) -> None:
    accessbot.delay = 1.0
    with pytest.raises(Unanswered, match=r"^AccessBot did not answer within 0\.3 s"):
        decide(accessbot.url, timeout=0.3)
    # An answer that starts at once but trickles in is no answer either: the timeout is for all of it.
    accessbot.delay, accessbot.trickle = 0.0, 0.05
    with pytest.raises(Unanswered, match=r"^AccessBot did not answer within 0\.3 s"):
        decide(accessbot.url, timeout=0.3)  # (all of it would take over 10 s, each byte within 0.3 s)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(Unanswered, match=r"^AccessBot could not be reached \(ConnectError\)"):
        decide(f"http://127.0.0.1:{closed}")


def test_without_settings_every_call_is_no_answer() -> None:
    client = DecisionClient("ACCESSBOT_GATEWAY_TOKEN is not set")
    with pytest.raises(Unanswered, match="the gateway is not set up to ask AccessBot"):
        asyncio.run(client.decide("abk_k", "m"))


# -- which models a request could reach besides the one it names ----------------------------------------


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"fallbacks": ["fable-5", "lumen-3"]}, ["fable-5", "lumen-3"]),
        ({"fallbacks": [{"model": "fable-5", "temperature": 0.1, "fallbacks": ["lumen-3"]}]},
         ["fable-5", "lumen-3"]),
        ({"context_window_fallbacks": [{"mythos-5": ["fable-5"]}]}, ["mythos-5", "fable-5"]),
        ({"router_settings_override": {"content_policy_fallbacks": ["fable-5"], "num_retries": 2}},
         ["fable-5"]),
        ({"fallbacks": [], "messages": [{"content": "not a model"}]}, []),
    ],
)  # fmt: skip
def test_every_name_in_the_fallbacks_is_asked_about(body: dict[str, Any], names: list[str]) -> None:
    assert fallback_names(body) == names


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # The router loops over whatever it is given: a mapping's keys, a string's characters.
        ({"fallbacks": {"fable-5": 1}}, "fallbacks must be a list of model names"),
        ({"context_window_fallbacks": "fable-5"}, "context_window_fallbacks must be a list"),
        ({"router_settings_override": {"fallbacks": {"fable-5": 1}}}, "fallbacks must be a list"),
        ({"fallbacks": [{"temperature": 0.2}]}, "fallbacks: a fallback entry names no model"),
        ({"fallbacks": [7]}, "fallbacks: a fallback entry names no model"),
        ({"router_settings_override": {"model_group_alias": {"mythos-5": "fable-5"}}},
         "may not set model_group_alias"),
        ({"router_settings_override": ["fallbacks"]}, "router_settings_override must be an object"),
        ({"fallbacks": [f"m-{n}" for n in range(101)]}, "more than 100 models"),
    ],
)  # fmt: skip
def test_fallbacks_that_cannot_be_judged_are_refused(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(NamesNoModel, match=problem):
        fallback_names(body)


def test_the_proxys_own_aliases_and_fallbacks_are_asked_about_too() -> None:
    router = SimpleNamespace(
        model_group_alias={"house-model": "mythic/mythos-5", "old": {"model": "lumen-3", "hidden": True}},
        fallbacks=[{"mythic/mythos-5": ["fable-5"]}, {"fable-5": ["lumen-3"]}, {"other": ["nope-1"]}],
        context_window_fallbacks=[{"mythos-5": ["ctx-big"]}],  # matches mythic/mythos-5 without its prefix
        content_policy_fallbacks=None,
    )
    assert configured_reach(["house-model"], router) == ["mythic/mythos-5", "fable-5", "ctx-big", "lumen-3"]
    assert configured_reach(["old"], router) == ["lumen-3"]
    assert configured_reach(["nope-1"], router) == []
    everywhere = SimpleNamespace(fallbacks=[{"*": ["safety-net"]}, "last-resort"], model_group_alias={})
    assert configured_reach(["anything"], everywhere) == ["safety-net", "last-resort"]
    assert configured_reach(["anything"], None) == []
