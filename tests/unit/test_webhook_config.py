"""Webhook receivers in workflows/webhooks.yaml and their secrets in the settings: every mistake is one
line naming the file and key, or the variable, and a secret is never echoed."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.webhooks import EVENT_TYPES, Receiver
from bot.workflows import WorkflowError, load_catalog
from tests.support.bot_server import FIXTURES
from tests.support.webhook_receiver import new_secret


def workflows(tmp_path: Path, webhooks: str | None) -> Path:
    directory = tmp_path / "workflows"
    shutil.copytree(FIXTURES / "workflows", directory)
    if webhooks is not None:
        (directory / "webhooks.yaml").write_text(webhooks, encoding="utf-8")
    return directory


def problems(tmp_path: Path, webhooks: str) -> list[str]:
    with pytest.raises(WorkflowError) as caught:
        load_catalog(workflows(tmp_path, webhooks))
    return [p.split("webhooks.yaml: ", 1)[1] for p in caught.value.problems]


def test_without_the_file_there_are_no_receivers(tmp_path: Path) -> None:
    assert load_catalog(workflows(tmp_path, None)).receivers == ()


def test_receivers_with_families_of_events(tmp_path: Path) -> None:
    text = """receivers:
  - name: scim-bridge
    url: https://scim.example.com/hooks
    events: [grant.*, directive.lifted]
  - name: tickets
    url: http://127.0.0.1:8080/in
    events: ['*']
"""
    scim, tickets = load_catalog(workflows(tmp_path, text)).receivers
    assert scim.events == {t for t in EVENT_TYPES if t.startswith("grant.")} | {"directive.lifted"}
    assert (
        tickets.events == set(EVENT_TYPES) and tickets.secret_variable == "ACCESSBOT_WEBHOOK_SECRET_TICKETS"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("name: Scim\n    url: https://a.example\n    events: ['*']", "receivers[0].name: 'Scim' must start"),
        ("name: a\n    url: http://a.example\n    events: ['*']", "receivers[0].url: must use https"),
        (
            "name: a\n    url: ftp://a.example\n    events: ['*']",
            "receivers[0].url: 'ftp://a.example' is not",
        ),
        (
            "name: a\n    url: https://u:p@a.example\n    events: ['*']",
            "receivers[0].url: must not hold a user",
        ),
        (
            "name: a\n    url: https://a.example\n    events: [grant.deleted]",
            "receivers[0].events[0]: 'grant.deleted'",
        ),
        ("name: a\n    url: https://a.example", "receivers[0].events: is required"),
        (
            "name: a\n    url: https://a.example\n    events: '*'",
            "receivers[0].events: must be a list of event",
        ),
        (
            "name: a\n    url: https://a.example\n    events: []\n    secret: x",
            "receivers[0].secret: is not a known",
        ),
    ],
)
def test_each_mistake_names_its_key(tmp_path: Path, entry: str, expected: str) -> None:
    found = problems(tmp_path, f"receivers:\n  - {entry}\n")
    assert any(p.startswith(expected) for p in found), found


def test_two_receivers_may_not_share_a_name(tmp_path: Path) -> None:
    one = "  - name: a\n    url: https://a.example\n    events: ['*']\n"
    assert problems(tmp_path, "receivers:\n" + one + one) == [
        "receivers[1].name: 'a' is used by another receiver"
    ]


SCIM = Receiver("scim-bridge", "https://scim.example.com", frozenset(EVENT_TYPES))
VARIABLE = "ACCESSBOT_WEBHOOK_SECRET_SCIM_BRIDGE"


def test_a_good_secret_is_read_from_the_environment() -> None:
    secret = new_secret()
    assert load_settings({VARIABLE: secret}, env_file=None).webhook_secrets_for([SCIM]) == {
        "scim-bridge": secret
    }


def test_a_secret_in_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    first, second = new_secret(), new_secret()
    env_file = tmp_path / ".env"
    env_file.write_text(f"{VARIABLE}={first}\n", encoding="utf-8")
    assert load_settings({}, env_file=str(env_file)).webhook_secrets_for([SCIM])["scim-bridge"] == first
    settings = load_settings({VARIABLE: second}, env_file=str(env_file))
    assert settings.webhook_secrets_for([SCIM])["scim-bridge"] == second
    assert second not in repr(settings)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, f"{VARIABLE} is not set;"),
        ("whsec_changeme", f"{VARIABLE} still holds a placeholder value"),
        ("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", f"{VARIABLE} must start with 'whsec_'"),
        ("whsec_c2hvcnQ=", f"{VARIABLE} must be 'whsec_' followed by 24 to 64 random bytes in base64"),
        ("whsec_not*base64*at*all*really", f"{VARIABLE} must be 'whsec_' followed by"),
        ("whsec_" + base64.b64encode(bytes(24)).decode(), f"{VARIABLE} does not look random"),
        ("whsec_" + base64.b64encode(b"ab" * 16).decode(), f"{VARIABLE} does not look random"),
        (
            "whsec_" + base64.b64encode(b"password1234password1234").decode(),
            f"{VARIABLE} does not look random",
        ),
        ("whsec_" + base64.b64encode(bytes(range(8)) * 3).decode(), f"{VARIABLE} does not look random"),
    ],
)
def test_a_missing_or_wrong_secret_is_one_line_naming_the_variable(value: str | None, message: str) -> None:
    environ = {} if value is None else {VARIABLE: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, env_file=None).webhook_secrets_for([SCIM])
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text
    assert value is None or value not in text
