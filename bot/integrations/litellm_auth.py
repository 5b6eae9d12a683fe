"""AccessBot as the LiteLLM proxy's `custom_auth`: a model call through the proxy goes ahead only when
AccessBot's decision API (POST /v1/access/check) allows it. Setup: README, "LiteLLM in front of the models".

    general_settings:
      custom_auth: bot.integrations.litellm_auth.user_api_key_auth

Before each request LiteLLM awaits `user_api_key_auth(request, api_key)` with the key the client sent
(`Authorization: Bearer abk_…`). This module reads the model the request names, asks AccessBot, and
returns who the caller is when the answer is `"allow": true`. Otherwise it raises a ProxyException, which
LiteLLM sends to the client as an OpenAI-style error whose message is AccessBot's reason and whose type is
`accessbot_<code>`: HTTP 401 for a key AccessBot does not know or has revoked, 403 when the person may not
use the model now, 503 when AccessBot did not give an answer.

It fails closed: AccessBot unreachable or slower than the timeout, an answer that is not a decision, a
request that names no model, or this module not configured, and the call is refused. A request goes ahead
only if every model it could make the proxy call is allowed: the body's, the path's, a query parameter's,
each fallback's, and those the proxy's own configuration routes them to (aliases, configured fallbacks).
Nothing is cached (AccessBot says `cache_seconds: 0`), so a suspension, revocation or expiry stops the very
next call.

It imports nothing else from AccessBot, so the proxy needs neither AccessBot's database nor its settings,
and the file also works copied on its own next to config.yaml (`custom_auth: litellm_auth.user_api_key_auth`).

Environment of the proxy's process:
    ACCESSBOT_URL            AccessBot's base URL (the one Slack posts to), e.g. https://accessbot.example.com
    ACCESSBOT_GATEWAY_TOKEN  the same secret as AccessBot's own ACCESSBOT_GATEWAY_TOKEN
    ACCESSBOT_TIMEOUT        seconds to wait for one decision, the whole answer (default 3)
    ACCESSBOT_ALLOW_PLAIN_HTTP  yes: allow an http:// ACCESSBOT_URL to another machine (a private network)
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from fastapi import Request
    from litellm.proxy._types import ProxyException, UserAPIKeyAuth

log = logging.getLogger("accessbot.litellm")

CHECK_PATH = "/v1/access/check"
DEFAULT_TIMEOUT = 3.0
MAX_TIMEOUT = 60.0
# AccessBot's codes for a caller it cannot identify (HTTP 401), as opposed to one it knows but refuses (403).
UNIDENTIFIED = frozenset({"unknown_key", "revoked_key"})
ASK_FOR_A_KEY = "make one with `/access key` in Slack"
TELL_THE_GATEWAY_TEAM = (
    "The call was refused; try again shortly, and tell the team that runs the AI gateway if it persists."
)


@dataclass(frozen=True)
class Settings:
    """Where and how to ask: the decision API's full URL, the gateway token, seconds to wait."""

    check_url: str
    token: str
    timeout: float


def read_settings(environ: Mapping[str, str]) -> Settings | str:
    """The settings in `environ`, or what is wrong with them in one line that names the variable.

    Plain http is refused except to this machine (the gateway token and every key would cross the
    network readable), unless ACCESSBOT_ALLOW_PLAIN_HTTP=yes says the network between them is private."""
    url = environ.get("ACCESSBOT_URL", "").strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        return "ACCESSBOT_URL must be AccessBot's base URL, like https://accessbot.example.com"
    plain_ok = environ.get("ACCESSBOT_ALLOW_PLAIN_HTTP", "").strip().lower() in ("yes", "true", "1")
    if url.startswith("http://") and not plain_ok and not _loopback(httpx.URL(url).host):
        return (
            "ACCESSBOT_URL must use https:// (plain http only to this machine, or with "
            "ACCESSBOT_ALLOW_PLAIN_HTTP=yes on a private network): the token and keys would cross it readable"
        )
    token = environ.get("ACCESSBOT_GATEWAY_TOKEN", "").strip()
    if not token:
        return "ACCESSBOT_GATEWAY_TOKEN is not set"
    raw = environ.get("ACCESSBOT_TIMEOUT", "").strip()
    try:
        timeout = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        return f"ACCESSBOT_TIMEOUT must be a number of seconds, not {raw!r}"
    if not 0 < timeout <= MAX_TIMEOUT:
        return f"ACCESSBOT_TIMEOUT must be more than 0 and at most {MAX_TIMEOUT:g} seconds"
    return Settings(url + CHECK_PATH, token, timeout)


def _loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Unanswered(Exception):
    """AccessBot gave no decision; the message says why, for the client and the proxy's log."""


class DecisionClient:
    """Asks AccessBot for decisions over HTTP. Knows nothing of LiteLLM."""

    def __init__(self, settings: Settings | str):
        self.settings = settings
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    async def decide(self, key: str, model: str) -> dict[str, Any]:
        """AccessBot's decision on `key` using `model` now, or Unanswered saying why there is none."""
        if isinstance(self.settings, str):
            raise Unanswered(f"the gateway is not set up to ask AccessBot ({self.settings})")
        # httpx's timeout bounds each read, not the whole answer: an answer trickled in slowly would be
        # taken however late (and stale). The deadline is for the whole exchange.
        try:
            response = await asyncio.wait_for(
                self._http(self.settings).post(
                    self.settings.check_url,
                    json={"key": key, "model": model},
                    headers={"Authorization": f"Bearer {self.settings.token}"},
                ),
                self.settings.timeout,
            )
        except (TimeoutError, httpx.TimeoutException):
            raise Unanswered(f"AccessBot did not answer within {self.settings.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise Unanswered(f"AccessBot could not be reached ({type(error).__name__})") from None
        return read_decision(response)

    def _http(self, settings: Settings) -> httpx.AsyncClient:
        """One client per event loop, reused across calls so that a check does not open a connection (and
        a TLS session) of its own; a client belongs to the loop it was made on."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False)
            self._client_loop = loop
        return self._client


def read_decision(response: httpx.Response) -> dict[str, Any]:
    """The decision in AccessBot's response, or Unanswered saying what came back instead."""
    if response.status_code == 401:
        raise Unanswered("AccessBot refused the gateway's token (the two ACCESSBOT_GATEWAY_TOKEN differ)")
    if response.status_code == 503:
        raise Unanswered("AccessBot's decision API is turned off (its ACCESSBOT_GATEWAY_TOKEN is not set)")
    if response.status_code != 200:
        raise Unanswered(f"AccessBot answered HTTP {response.status_code}")
    try:
        decision = response.json()
    except ValueError:
        raise Unanswered("AccessBot's answer was not JSON") from None
    if not (
        isinstance(decision, dict)
        and isinstance(decision.get("allow"), bool)
        and isinstance(decision.get("code"), str)
        and isinstance(decision.get("reason"), str)
        and decision["reason"].strip()
    ):
        raise Unanswered("AccessBot's answer was not a decision")
    return decision


# -- LiteLLM's side: imported when the proxy first calls, so that the part above works without LiteLLM --


def refusal(status: int, code: str, message: str) -> ProxyException:
    """The error LiteLLM sends the client: `message` as the error's message, `accessbot_<code>` its type."""
    from litellm.proxy._types import ProxyException

    return ProxyException(message=message, type=f"accessbot_{code}", param="model", code=status)


def denial(decision: Mapping[str, Any]) -> ProxyException:
    """The refusal carrying AccessBot's own reason: 401 for a caller it cannot identify, else 403."""
    code = str(decision["code"])
    status = 401 if code in UNIDENTIFIED else 400 if code == "malformed" else 403
    return refusal(status, code, str(decision["reason"]))


# Routes that carry the model in the path, beside whatever the body says: the proxy calls the path's.
PATH_MODEL = (
    re.compile(r"/(?:deployments|engines)/([^/]+)/"),  # /openai/deployments/{model}/…, /engines/{model}/…
    re.compile(r"/models/([^:]+):"),  # Google-style /v1beta/models/{model}:generateContent, Vertex AI
)


class NamesNoModel(Exception):
    """A part of the request that would pick a model names none AccessBot can be asked about."""


FALLBACK_FIELDS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks")
# What a request may set in `router_settings_override`: the fallbacks (checked like the body's) and the
# retry settings, which pick no model. Anything else there (an alias, a routing strategy) is refused.
OVERRIDABLE = frozenset({*FALLBACK_FIELDS, "num_retries", "max_retries", "timeout"})
MAX_FALLBACK_NAMES = 100


def fallback_names(request_body: Mapping[str, Any]) -> list[str]:
    """Every model name the request's fallbacks hold, in the body and in `router_settings_override`:
    every string in them, keys of mappings included, at any depth, since the router reads a mapping's
    keys as model groups too. Raises NamesNoModel for a fallback field that is not a list (the router
    would read a string's characters, or a mapping's keys, as models), for a fallback entry holding
    no model name, for an override it cannot judge, and past MAX_FALLBACK_NAMES names."""
    sources: list[Mapping[str, Any]] = [request_body]
    override = request_body.get("router_settings_override")
    if override is not None:
        if not isinstance(override, Mapping):
            raise NamesNoModel("router_settings_override must be an object")
        unknown = sorted(str(key) for key in override if key not in OVERRIDABLE)
        if unknown:
            raise NamesNoModel(f"router_settings_override may not set {', '.join(unknown)}")
        sources.append(override)
    names: list[str] = []
    for source in sources:
        for field in FALLBACK_FIELDS:
            value = source.get(field)
            if value is None:
                continue
            if not isinstance(value, list):
                raise NamesNoModel(f"{field} must be a list of model names")
            for entry in value:
                try:
                    names.extend(_strings(entry))
                except NamesNoModel as problem:
                    raise NamesNoModel(f"{field}: {problem}") from None
                if len(names) > MAX_FALLBACK_NAMES:
                    raise NamesNoModel(f"the fallbacks name more than {MAX_FALLBACK_NAMES} models")
    return names


def _strings(value: Any, depth: int = 0) -> list[str]:
    """The model names in one fallback entry, as the router reads entries: a name; a target
    (`{"model": name, …}`, whose own fallback fields count too); or a mapping of model groups to lists
    of entries (its keys and everything in its lists). Raises NamesNoModel for an entry of none of
    these shapes, and past a depth of 8."""
    if depth > 8:
        raise NamesNoModel("the fallbacks are nested too deeply")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [name for item in value for name in _strings(item, depth + 1)]
    if isinstance(value, Mapping) and isinstance(value.get("model"), str):
        nested = [value[field] for field in FALLBACK_FIELDS if value.get(field) is not None]
        return [value["model"], *(name for item in nested for name in _strings(item, depth + 1))]
    if isinstance(value, Mapping) and value and all(isinstance(v, list) for v in value.values()):
        return [str(key) for key in value] + [name for v in value.values() for name in _strings(v, depth + 1)]
    raise NamesNoModel("a fallback entry names no model")


def _names_in(value: Any) -> list[str]:
    """Every string in the proxy's own configuration value (trusted: whatever its shape)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [name for item in value.values() for name in _names_in(item)]
    if isinstance(value, list):
        return [name for item in value for name in _names_in(item)]
    return []


def configured_reach(models: list[str], router: Any) -> list[str]:
    """The models the proxy's own configuration may route `models` to, besides themselves: aliases
    (`model_group_alias`) and the configured fallbacks (router_settings `fallbacks`,
    `context_window_fallbacks`, `content_policy_fallbacks`, `default_fallbacks`), of the models and of
    their fallbacks in turn. A fallback entry applies when its key is the model, the model without a
    `provider/` prefix, or `*`."""
    if router is None:
        return []
    aliases = getattr(router, "model_group_alias", None) or {}
    # An entry is {model group: [fallbacks]}, or a bare name, which the router applies to every group.
    configured = [
        entry if isinstance(entry, Mapping) else {"*": [entry]}
        for field in FALLBACK_FIELDS
        for entry in (getattr(router, field, None) or [])
    ]
    reached: list[str] = []
    queue, seen = list(models), set(models)
    while queue:
        model = queue.pop(0)
        targets: list[str] = []
        alias = aliases.get(model)
        if alias is not None:
            targets.extend(_names_in(alias.get("model") if isinstance(alias, Mapping) else alias))
        bare = model.split("/", 1)[-1]
        for entry in configured:
            for key, value in entry.items():
                if key in (model, bare, "*"):
                    targets.extend(_names_in(value))
        for target in targets:
            if target not in seen:
                seen.add(target)
                reached.append(target)
                queue.append(target)
    return reached


def requested_models(body: Mapping[str, Any], route: str, request: Request) -> list[str]:
    """Every model the request could make the proxy call, in order, once each: what LiteLLM's own
    model-access check finds (the body's `"model"`, a list or a comma-separated string too, a routing
    header), every model the path names (`/openai/deployments/{model}/…`, `/engines/{model}/…`,
    `…/models/{model}:…`), every `model` query parameter, every fallback the request asks for
    (fallback_names), and whatever the proxy's configuration routes those to (configured_reach): the
    proxy may call any of them, so each must be allowed. Raises NamesNoModel (see fallback_names)."""
    from litellm.proxy.auth.user_api_key_auth import _get_model_from_request_context
    from litellm.proxy.proxy_server import llm_router

    found = _get_model_from_request_context(dict(body), route, request, llm_router)
    names: list[Any] = [found] if isinstance(found, str) else list(found or [])
    names.append(request.path_params.get("model"))
    names.extend(match.group(1) for pattern in PATH_MODEL if (match := pattern.search(route)))
    names.extend(value for name, value in request.query_params.multi_items() if name.lower() == "model")
    names.extend(fallback_names(body))
    asked = list(dict.fromkeys(name.strip() for name in names if isinstance(name, str) and name.strip()))
    return asked + [name for name in configured_reach(asked, llm_router) if name.strip() not in asked]


class AccessBotAuth:
    """LiteLLM's custom_auth, configured from `environ` once (when the proxy loads this module, so that a
    configuration problem is in the proxy's log at start)."""

    def __init__(self, environ: Mapping[str, str]):
        settings = read_settings(environ)
        if isinstance(settings, str):
            log.error("AccessBot custom_auth is not configured, every call will be refused: %s", settings)
        self.client = DecisionClient(settings)

    async def __call__(self, request: Request, api_key: str) -> UserAPIKeyAuth:
        from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
        from litellm.proxy.auth.auth_utils import get_request_route
        from litellm.proxy.auth.route_checks import RouteChecks
        from litellm.proxy.common_utils.http_parsing_utils import _read_request_body

        route = get_request_route(request)
        if not RouteChecks.is_llm_api_route(route):
            raise refusal(
                403, "not_a_model_call", "This gateway lets model calls through, and nothing else: AccessBot "
                "decides who may use which model."
            )  # fmt: skip
        key = (api_key or "").strip()
        if not key:
            raise refusal(
                401, "no_key", f"Send your AccessBot personal key as `Authorization: Bearer abk_…`; "
                f"{ASK_FOR_A_KEY}."
            )  # fmt: skip
        try:
            models = requested_models(await _read_request_body(request), route, request)
        except NamesNoModel as problem:
            message = f"AccessBot cannot tell which model this request would use: {problem}."
            raise refusal(400, "no_model", message) from None
        if not models:
            raise refusal(400, "no_model", "This request names no model; AccessBot decides access per model.")
        user = None
        for model in models:  # a request for several models goes ahead only if each is allowed
            try:
                decision = await self.client.decide(key, model)
            except Unanswered as problem:
                # Logged without the key; the client is told the same, since it names no secret.
                log.warning("refused a call to %s: %s", model, problem)
                raise refusal(
                    503, "unavailable", f"AccessBot decides who may use {model}, and it gave no answer: "
                    f"{problem}. {TELL_THE_GATEWAY_TEAM}"
                ) from None  # fmt: skip
            if not decision["allow"]:
                raise denial(decision)
            user = decision.get("user")
        return UserAPIKeyAuth(api_key=key, user_id=user, user_role=LitellmUserRoles.INTERNAL_USER)


_auth = AccessBotAuth(os.environ)


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    """The function `general_settings: custom_auth` names (LiteLLM's custom auth signature)."""
    return await _auth(request, api_key)
