"""Signed payloads of unexpected shapes, generated from seeded mutations of the payloads Slack sends.

Whatever the shape, the bot answers within Slack's 3 seconds, never with a 5xx, and logs no traceback.
The suite runs a few hundred examples per database; `--fuzz-examples 10000` runs a larger campaign.
Hypothesis derandomises the run, so a failure reproduces from the same code.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import ids
from tests.support.app import InProcessBot
from tests.support.bot_server import SIGNING_SECRET
from tests.support.slack import SlackEmulator

PEOPLE = ("U0ALICE01", "U0MARIA01", "U0ADMIN01", "U0OWEN001", "U0STRANGE1")
FORM = "application/x-www-form-urlencoded"

# Values a mutation may put anywhere: every JSON type, awkward numbers and text with control characters,
# other scripts' digits, mentions and very long runs.
_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "G\u0661",
            "R" + "9" * 25,
            "1:0",
            "99999999999:0",
            "-1:0",
            "1:-1",
            "<!channel>",
            "\ud800x",
        ]
    ),
    st.text(alphabet="\x00\x1b\r\n\t\u202e\ufffe", max_size=20),
    st.builds(lambda n: "x" * n, st.integers(3000, 45_000)),
)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([10**400, -1, 0, 2**31, 253402300800, 1.5, 1e308]),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _user(user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": "T0ACCESS"}


def _picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def _interaction(kind: str, emulator: SlackEmulator, user: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "token": "verification-token",
        "team": {"id": "T0ACCESS", "domain": "accessbot-test"},
        "user": _user(user),
        "api_app_id": emulator.app_id,
        "is_enterprise_install": False,
        "enterprise": None,
        "trigger_id": emulator.new_trigger_id(user),
    }
    if kind == "shortcut":
        return {**base, "type": "shortcut", "callback_id": ids.REQUEST_SHORTCUT, "action_ts": "1.2"}
    if kind.startswith("action:"):
        action_id, value = kind.split(":", 2)[1:]
        response_url = emulator.new_response_url(user, "C0GENERAL")
        return {
            **base,
            "type": "block_actions",
            "container": {"type": "message", "channel_id": "C0GENERAL", "message_ts": "1.1"},
            "channel": {"id": "C0GENERAL", "name": "general"},
            "response_url": response_url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value}],
        }
    if kind == "suggestion":
        return {
            **base,
            "type": "block_suggestion",
            "action_id": ids.REQUEST_MODEL_ACTION,
            "block_id": ids.REQUEST_MODEL_BLOCK,
            "value": "myth",
            "view": {"id": "V1", "callback_id": ids.REQUEST_VIEW, "type": "modal"},
        }
    callback, values, metadata = {
        "submit:request": (
            ids.REQUEST_VIEW,
            {
                ids.REQUEST_MODEL_BLOCK: {
                    ids.REQUEST_MODEL_ACTION: {
                        "type": "static_select",
                        "selected_option": {"value": "lumen-3"},
                    }
                },
                ids.REQUEST_DURATION_BLOCK: {
                    ids.REQUEST_DURATION_ACTION: {"type": "static_select", "selected_option": {"value": "7d"}}
                },
                ids.REQUEST_JUSTIFICATION_BLOCK: {
                    ids.REQUEST_JUSTIFICATION_ACTION: {"type": "plain_text_input", "value": "x" * 40}
                },
            },
            "",
        ),
        "submit:deny": (
            ids.DENY_VIEW,
            {ids.DENY_REASON_BLOCK: {ids.DENY_REASON_ACTION: {"type": "plain_text_input", "value": "no"}}},
            "1:0",
        ),
        "submit:directive": (
            ids.DIRECTIVE_VIEW,
            {
                block: {block + ids.INPUT_SUFFIX: value}
                for block, value in {
                    ids.DIRECTIVE_TITLE_BLOCK: {"type": "plain_text_input", "value": "Order"},
                    ids.DIRECTIVE_AUTHORITY_BLOCK: {"type": "plain_text_input", "value": "Ministry"},
                    ids.DIRECTIVE_REFERENCE_BLOCK: {"type": "plain_text_input", "value": "2026-1"},
                    ids.DIRECTIVE_NOTICE_BLOCK: {"type": "plain_text_input", "value": "Stop now"},
                    ids.DIRECTIVE_MODELS_BLOCK: {
                        "type": "multi_static_select",
                        "selected_options": [{"value": "mythos-5"}],
                    },
                    ids.DIRECTIVE_POPULATION_BLOCK: {
                        "type": "static_select",
                        "selected_option": {"value": "non-us-persons"},
                    },
                    ids.DIRECTIVE_ACTION_BLOCK: {
                        "type": "static_select",
                        "selected_option": {"value": "suspend"},
                    },
                    ids.DIRECTIVE_EFFECTIVE_BLOCK: {
                        "type": "datetimepicker",
                        "selected_date_time": 1_900_000_000,
                    },
                }.items()
            },
            "",
        ),
        "submit:confirm": (ids.DIRECTIVE_CONFIRM_VIEW, {}, "1"),
    }[kind]
    return {
        **base,
        "type": "view_submission",
        "view": {
            "id": "V0FUZZ",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": metadata,
            "state": {"values": values},
            "team_id": "T0ACCESS",
            "app_installed_team_id": "T0ACCESS",
        },
        "response_urls": [],
    }


def _command(text: str, emulator: SlackEmulator, user: str, command: str = "/access") -> dict[str, Any]:
    return {
        "token": "verification-token",
        "team_id": "T0ACCESS",
        "channel_id": "C0GENERAL",
        "user_id": user,
        "command": command,
        "text": text,
        "api_app_id": emulator.app_id,
        "response_url": emulator.new_response_url(user, "C0GENERAL"),
        "trigger_id": emulator.new_trigger_id(user),
    }


def _event(kind: str, user: str) -> dict[str, Any]:
    event: dict[str, Any] = (
        {"type": "app_home_opened", "user": user, "channel": "D0X", "tab": "home", "event_ts": "1.1"}
        if kind == "home"
        else {"type": "user_change", "user": {"id": user, "deleted": False, "name": "x"}, "event_ts": "1.1"}
    )
    return {
        "token": "verification-token",
        "team_id": "T0ACCESS",
        "api_app_id": "A0ACCESSBOT",
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + hashlib.sha1(repr(time.monotonic()).encode()).hexdigest()[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0ACCESS", "user_id": "U0ACCESSBOT", "is_bot": True}],
    }


KINDS = [
    "command:request lumen-3 7d " + "x" * 40,
    "command:status",
    "command:cancel R1",
    "command:revoke G1 done",
    "command:grants <@U0ALICE01>",
    "command:",
    "directive:list",
    "directive:lift D1",
    "directive:",
    "shortcut",
    f"action:{ids.APPROVE_ACTION}:1:0",
    f"action:{ids.DENY_ACTION}:1:0",
    f"action:{ids.HOME_CANCEL_ACTION}:1",
    f"action:{ids.HOME_RELINQUISH_ACTION}:1",
    f"action:{ids.HOME_REQUEST_ACTION}:",
    "suggestion",
    "submit:request",
    "submit:deny",
    "submit:directive",
    "submit:confirm",
    "event:home",
    "event:user",
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _mutate(payload: dict[str, Any], data: st.DataObject, *, strings_only: bool) -> dict[str, Any]:
    mutated = copy.deepcopy(payload)
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        paths = [p for p in _paths(mutated) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent: Any = mutated
        for step in path[:-1]:
            parent = parent[step]
        how = data.draw(st.sampled_from(["delete", "replace", "null"]), label="how")
        if how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "null" and not strings_only:
            parent[path[-1]] = None
        else:
            parent[path[-1]] = data.draw(_text if strings_only else _json, label="value")
    return mutated


def _signed_post(server: InProcessBot, body: bytes, content_type: str) -> tuple[int, float]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest,
    }
    request = urllib.request.Request(server.events_url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def _encode(payload: dict[str, Any]) -> tuple[bytes, str]:
    if payload.get("type") == "event_callback" or "event" in payload:
        return json.dumps(payload).encode("utf-8", "surrogatepass"), "application/json"
    if "command" in payload and "type" not in payload:
        fields = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
        return urlencode(
            fields, encoding="utf-8", errors="surrogatepass"
        ).encode(), "application/x-www-form-urlencoded"
    return (
        urlencode({"payload": json.dumps(payload)}).encode(),
        "application/x-www-form-urlencoded",
    )


def test_fuzzed_signed_payloads_never_break_the_bot(
    server: InProcessBot, emulator: SlackEmulator, request: pytest.FixtureRequest
) -> None:
    examples = int(request.config.getoption("--fuzz-examples"))
    outcomes: list[tuple[str, int, float]] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def one(data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        user = data.draw(st.sampled_from(PEOPLE), label="user")
        if kind.startswith(("command:", "directive:")):
            name, text = kind.split(":", 1)
            base = _command(text, emulator, user, "/access" if name == "command" else "/directive")
            payload = _mutate(base, data, strings_only=True)
        elif kind.startswith("event:"):
            payload = _mutate(_event(kind.removeprefix("event:"), user), data, strings_only=False)
        else:
            payload = _mutate(_interaction(kind, emulator, user), data, strings_only=False)
        body, content_type = _encode(payload)
        status, elapsed = _signed_post(server, body, content_type)
        outcomes.append((kind, status, elapsed))
        assert status < 500, (kind, status, body[:300])

    one()
    slowest = max((elapsed for _, _, elapsed in outcomes), default=0.0)
    answers = Counter(status for _, status, _ in outcomes)
    print(f"fuzz: {len(outcomes)} payloads, answers {dict(answers)}, slowest {slowest:.2f}s")
    log = server.log()
    assert "Traceback" not in log, log[log.find("Traceback") - 500 :][:3000]
    assert len(outcomes) >= min(examples, 50)
    statuses = {status for _, status, _ in outcomes}
    assert 200 in statuses  # the generator still produces payloads the bot acts on
