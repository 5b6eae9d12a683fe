"""A real LiteLLM proxy (the `litellm` extra) with bot/integrations/litellm_auth.py as its custom_auth,
in front of models that answer from LiteLLM's mock responses (no provider is called), asking a bot replica
in this process. Model calls go through the proxy as a client sends them, with a personal key made in Slack,
and what AccessBot decides reaches the very next call: a directive and its lift, a revoked key, expiry, and
AccessBot itself gone.

The proxy takes seconds to import and start, so one test walks the whole story against one proxy."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import InProcessBot
from tests.support.bot_server import wait_until_answering
from tests.support.cli import run_cli
from tests.support.flows import grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

# The proxy's wiring to AccessBot; the decisions it asks for are tested on both databases by
# tests/e2e/test_gateway.py.
pytestmark = pytest.mark.any_database("the LiteLLM proxy's wiring")

if importlib.util.find_spec("litellm") is None:
    pytest.skip("needs the LiteLLM proxy: pip install -e '.[litellm]'", allow_module_level=True)

TOKEN = "gw-7d2e9a4c1b8f3e6a5d0c9b8a7f6e5d4c"
BORIS, ADMIN = "U0BORIS01", "U0ADMIN01"
# Model names in the proxy, as a company might name them (fable-5 twice, so that a route can carry it in
# its path, where a name cannot hold a slash).
ANSWERS = {
    "mythic/mythos-5": "Mythos 5 answers.",
    "mythos-5-2026-11": "Mythos 5 answers.",
    "fable/fable-5": "Fable 5 answers.",
    "fable-5": "Fable 5 answers.",
}
# The proxy's own routing: calls to this name of Mythos 5 may fall back to Fable 5.
ROUTER_SETTINGS = "router_settings:\n  fallbacks: [{mythos-5-2026-11: [fable-5]}]\n"
START_TIMEOUT = 180.0  # importing the proxy alone takes 10 s on an idle CI machine, far more on a busy one


def proxy_config(path: Path) -> Path:
    """config.yaml as the README's setup has it, with mock responses instead of providers."""
    models = "".join(
        f"  - model_name: {name}\n"
        f"    litellm_params:\n"
        f"      model: openai/{name.rsplit('/', 1)[-1]}\n"
        f"      api_key: not-used\n"
        f'      mock_response: "{answer}"\n'
        for name, answer in ANSWERS.items()
    )
    path.write_text(
        f"model_list:\n{models}{ROUTER_SETTINGS}"
        "general_settings:\n"
        "  custom_auth: bot.integrations.litellm_auth.user_api_key_auth\n",
        encoding="utf-8",
    )
    return path


class Proxy:
    """`litellm --config` as a process on a free port, told where AccessBot is."""

    def __init__(self, config: Path, accessbot_url: str, log_path: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        # Nothing of the bot's own environment: the proxy must not need AccessBot's database or settings
        # (and would try to open a database of its own if DATABASE_URL were set).
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ACCESSBOT_", "TEST_"))}
        keep.pop("DATABASE_URL", None)
        env = {
            **keep,
            "ACCESSBOT_URL": accessbot_url,
            "ACCESSBOT_GATEWAY_TOKEN": TOKEN,
            "ACCESSBOT_TIMEOUT": "5",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list at start
        }
        litellm = shutil.which("litellm", path=str(Path(sys.executable).parent)) or "litellm"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [litellm, "--config", str(config), "--host", "127.0.0.1", "--port", str(self.port),
             "--telemetry", "False"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=config.parent,
        )  # fmt: skip

    def wait_until_ready(self) -> None:
        wait_until_answering(
            self.process, f"{self.url}/health/readiness", START_TIMEOUT, "the proxy", self.log
        )

    def chat(self, model: str, key: str | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) of an OpenAI-style chat completion through the proxy."""
        body = {"model": model, "messages": [{"role": "user", "content": "Hello"}]}
        return self.call("POST", "/v1/chat/completions", key, body)

    def call(
        self, method: str, path: str, key: str | None, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) of one request to the proxy."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if key is not None:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def gateway(start_server: Callable[..., InProcessBot]) -> InProcessBot:
    return start_server(ACCESSBOT_GATEWAY_TOKEN=TOKEN)


@pytest.fixture
def slack(gateway: InProcessBot, emulator: SlackEmulator) -> SlackDriver:
    return gateway.driver(emulator)


@pytest.fixture
def proxy(gateway: InProcessBot, tmp_path: Path) -> Iterator[Proxy]:
    started = Proxy(proxy_config(tmp_path / "config.yaml"), gateway.url, tmp_path / "litellm.log")
    try:
        started.wait_until_ready()
        yield started
    finally:
        started.stop()
        print(f"--- litellm proxy log ---\n{started.log()[-20000:]}")


def new_key(slack: SlackDriver, user: str) -> str:
    body = slack.command(user, "key").body
    start = body.index("abk_")
    return body[start : start + 47]


def answered(proxy: Proxy, model: str, key: str) -> str:
    """The mock model's answer to a call the proxy let through."""
    status, body = proxy.chat(model, key)
    assert status == 200, body
    return str(body["choices"][0]["message"]["content"])


def refused(proxy: Proxy, model: str, key: str | None, status: int, kind: str) -> str:
    """The message of a call the proxy refused with `status` and error type `accessbot_<kind>`."""
    got, body = proxy.chat(model, key)
    assert (got, body["error"]["type"]) == (status, f"accessbot_{kind}"), body
    return str(body["error"]["message"])


def test_calls_through_litellm_go_ahead_only_while_accessbot_allows_them(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot, proxy: Proxy, tmp_path: Path
) -> None:
    grant_through_slack(slack, emulator, gateway, BORIS, "mythos-5", "2d")
    key, spare = new_key(slack, BORIS), new_key(slack, BORIS)

    # The holder's call is answered; a model they hold no grant for is refused with AccessBot's reason.
    assert answered(proxy, "mythic/mythos-5", key) == "Mythos 5 answers."
    assert refused(proxy, "fable/fable-5", key, 403, "no_grant") == (
        "Your access to Fable 5 does not exist; request it in Slack with "
        "`/access request fable-5 <why you need it>`."
    )
    # The proxy may call any model a request names, so each must be allowed: the fallbacks it asks for, a
    # model in the path or the query string, not only the body's.
    mythos = {"model": "mythic/mythos-5", "messages": [{"role": "user", "content": "Hello"}]}
    for path, extra, status, kind in (
        ("/v1/chat/completions", {"fallbacks": ["fable/fable-5"]}, 403, "no_grant"),
        (
            "/v1/chat/completions",
            {"context_window_fallbacks": [{"mythic/mythos-5": ["fable-5"]}]},
            403,
            "no_grant",
        ),
        ("/v1/chat/completions", {"content_policy_fallbacks": [{"model": "fable/fable-5"}]}, 403, "no_grant"),
        ("/v1/chat/completions?model=fable-5", {}, 403, "no_grant"),
        ("/openai/deployments/fable-5/chat/completions", {}, 403, "no_grant"),
        ("/engines/fable-5/chat/completions", {}, 403, "no_grant"),
        ("/v1/chat/completions", {"fallbacks": [{"temperature": 0.2}]}, 400, "no_model"),
        # The router reads a mapping's keys as model groups: fallbacks must be a list.
        ("/v1/chat/completions", {"fallbacks": {"fable-5": 1}}, 400, "no_model"),
        (
            "/v1/chat/completions",
            {"router_settings_override": {"fallbacks": {"fable-5": 0}}},
            400,
            "no_model",
        ),
        # A name the proxy's own configuration may send on to Fable 5.
        ("/v1/chat/completions", {"model": "mythos-5-2026-11"}, 403, "no_grant"),
    ):
        got, body = proxy.call("POST", path, key, {**mythos, **extra})
        assert (got, body["error"]["type"]) == (status, f"accessbot_{kind}"), (path, extra, body)
    assert "Send your AccessBot personal key" in refused(proxy, "mythic/mythos-5", None, 401, "no_key")
    assert "no such personal key" in refused(proxy, "mythic/mythos-5", "abk_" + "Z" * 43, 401, "unknown_key")
    # Only model calls pass: a holder's key opens none of the proxy's other routes, and names no model.
    status, body = proxy.call("POST", "/key/generate", key, {"models": ["mythic/mythos-5"]})
    assert (status, body["error"]["type"]) == (403, "accessbot_not_a_model_call"), body
    status, body = proxy.call("GET", "/v1/models", key)
    assert (status, body["error"]["type"]) == (400, "accessbot_no_model"), body

    # A directive suspends the grant: the very next call is refused, citing it; lifting it lets calls through.
    notice = tmp_path / "order.txt"
    notice.write_text("Mythos 5 may no longer be used by foreign nationals.", encoding="utf-8")
    run_cli(
        gateway, "directive", "issue", "--title", "Frontier order",
        "--authority", "US Department of Commerce", "--reference", "EO-2026-118",
        "--notice-file", str(notice), "--models", "mythos-5",
        "--population", "non-us-persons", "--action", "suspend",
    )  # fmt: skip
    reason = refused(proxy, "mythic/mythos-5", key, 403, "suspended")
    assert reason.startswith("Your access to Mythos 5 is suspended: directive D1 restricts Mythos 5 for you")
    run_cli(gateway, "directive", "lift", "D1", "--reason", "Order withdrawn")
    assert answered(proxy, "mythic/mythos-5", key) == "Mythos 5 answers."

    # A revoked key stops at once; the holder's other key still works.
    assert "Revoked K1" in slack.command(BORIS, "key revoke K1 left it on a train").body
    assert "was revoked" in refused(proxy, "mythic/mythos-5", key, 401, "revoked_key")
    assert answered(proxy, "mythic/mythos-5", spare) == "Mythos 5 answers."

    # Expiry stops the next call, before the expiry job has run.
    gateway.clock.advance(days=2, seconds=1)
    assert "expired" in refused(proxy, "mythic/mythos-5", spare, 403, "expired")

    # Nothing is cached: AccessBot gone, the proxy refuses (fail closed) and says why.
    gateway.stop()
    reason = refused(proxy, "mythic/mythos-5", spare, 503, "unavailable")
    # (Gone mid-conversation: the proxy's open connection gets no answer, so it is the timeout that ends it.)
    assert reason.startswith("AccessBot decides who may use mythic/mythos-5, and it gave no answer: ")
    # The personal keys went to AccessBot and nowhere else: not into the proxy's log.
    assert key not in proxy.log() and spare not in proxy.log()
