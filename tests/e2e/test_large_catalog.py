"""A catalog of more than 100 models, end to end over HTTP against the Slack emulator.

A static select holds 100 options, so past 100 models the request and directive forms search instead:
Slack asks the bot for options as the person types (block_suggestion), and every model can be chosen,
including those a 100-option menu would silently drop. `accessbot workflows check` says so.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.emulator.driver import FORM
from bot.emulator.view_state import build_state
from bot.slack import ids
from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES, BotServer
from tests.support.cli import listed, run_cli
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, MARIA, ADMIN = "U0ALICE01", "U0MARIA01", "U0ADMIN01"
WHY = "Evaluating summarisation quality for the quarterly research report"
EXTRA = 150  # models added to the 7 of the fixture catalog
# "Zephyr" sorts after every fixture model: the last ones are those a 100-option menu would drop.
LAST = f"zephyr-{EXTRA - 1:03d}"


@pytest.fixture
def big_workflows(tmp_path: Path) -> Path:
    directory = tmp_path / "big-workflows"
    shutil.copytree(FIXTURES / "workflows", directory)
    extra = "".join(
        f"  - slug: zephyr-{n:03d}\n"
        f"    name: Zephyr {n:03d}\n"
        "    provider: Lumen Systems\n"
        "    default_duration: 7d\n"
        "    max_duration: 30d\n"
        "    chain: standard\n"
        for n in range(EXTRA)
    )
    models = directory / "models.yaml"
    models.write_text(models.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return directory


@pytest.fixture
def big(start_server: Callable[..., InProcessBot], big_workflows: Path) -> BotServer:
    return start_server(ACCESSBOT_WORKFLOWS_DIR=str(big_workflows))


@pytest.fixture
def driver(big: BotServer, emulator: SlackEmulator) -> SlackDriver:
    return big.driver(emulator)


def open_modal(emulator: SlackEmulator, user: str) -> dict[str, Any]:
    return emulator.wait_for(lambda: [v for v in emulator.views_opened(user) if not v.get("closed")])[-1]


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)


def options(reply: Any) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.body
    assert reply.json is not None and set(reply.json) == {"options"}
    return list(reply.json["options"])


def test_every_model_can_be_found_and_requested_from_the_form(
    driver: SlackDriver, emulator: SlackEmulator, big: BotServer
) -> None:
    driver.shortcut(ALICE, ids.REQUEST_SHORTCUT)
    view = open_modal(emulator, ALICE)
    menu = element(view, ids.REQUEST_MODEL_BLOCK)
    assert menu["type"] == "external_select" and "options" not in menu
    assert menu["placeholder"]["text"] == f"Search {EXTRA + 7} models"

    def typed(text: Any) -> list[dict[str, Any]]:
        reply = driver.options(
            ALICE, ids.REQUEST_MODEL_ACTION, text, view=view, block_id=ids.REQUEST_MODEL_BLOCK
        )
        return options(reply)

    # Opening the menu lists the catalog from the top, as much as Slack takes.
    first_page = typed("")
    assert len(first_page) == 100 and LAST not in [o["value"] for o in first_page]
    assert first_page[0]["text"]["text"] == "Blink 1 (Lumen Systems)"
    # Typing finds the rest: by name or by slug, best match first, with the menu's labels.
    assert typed("Zephyr 149")[0] == {
        "text": {"type": "plain_text", "text": "Zephyr 149 (Lumen Systems)", "emoji": True},
        "value": LAST,
    }
    assert [o["value"] for o in typed(LAST)] == [LAST]
    assert [o["text"]["text"] for o in typed("legacy")] == ["Legacy 2 (Lumen Systems) · suspended"]
    assert typed("no such model") == []

    done = driver.submit_view(ALICE, view["id"], {"model": LAST, "justification": WHY})
    assert not (done.json or {}).get("errors"), done.body
    assert [r["model"] for r in listed(big, "requests")] == [LAST]
    emulator.wait_for(lambda: any("Zephyr 149" in t for t in emulator.dm_texts(MARIA)))


def test_a_forged_model_value_is_refused_in_the_form(
    driver: SlackDriver, emulator: SlackEmulator, big: BotServer
) -> None:
    driver.shortcut(ALICE, ids.REQUEST_SHORTCUT)
    view = open_modal(emulator, ALICE)
    refused = driver.submit_view(ALICE, view["id"], {"model": "zephyr-999", "justification": WHY})
    assert refused.json and refused.json["response_action"] == "errors"
    assert set(refused.json["errors"]) == {ids.REQUEST_MODEL_BLOCK}
    assert listed(big, "requests") == []


@pytest.mark.parametrize("value", [42, None, ["zephyr"], {"text": "zephyr"}, "x" * 100_000])
def test_the_options_url_answers_junk_with_an_empty_list(driver: SlackDriver, value: Any) -> None:
    reply = driver.options(ALICE, ids.REQUEST_MODEL_ACTION, value, block_id=ids.REQUEST_MODEL_BLOCK)
    assert options(reply) == []
    # The next person typing is answered as usual.
    reply = driver.options(ALICE, ids.REQUEST_MODEL_ACTION, "zephyr 14", block_id=ids.REQUEST_MODEL_BLOCK)
    expected = [*(f"zephyr-{n:03d}" for n in range(140, 150)), "zephyr-014", "zephyr-114"]
    assert [o["value"] for o in options(reply)] == expected


def test_the_directive_form_searches_models_and_files_the_ones_picked(
    driver: SlackDriver, emulator: SlackEmulator, big: BotServer
) -> None:
    driver.command(ADMIN, "", command=ids.DIRECTIVE_COMMAND)
    view = open_modal(emulator, ADMIN)
    menu = element(view, ids.DIRECTIVE_MODELS_BLOCK)
    assert menu["type"] == "multi_external_select" and menu["action_id"] == ids.DIRECTIVE_MODELS_ACTION
    reply = driver.options(
        ADMIN, ids.DIRECTIVE_MODELS_ACTION, "zephyr 149", view=view, block_id=ids.DIRECTIVE_MODELS_BLOCK
    )
    picked = options(reply)
    assert [o["text"]["text"] for o in picked] == ["Zephyr 149 (zephyr-149)"]

    preview = submit_directive_form(driver, view, picked)
    if preview.json and "busy right now" in json.dumps(preview.json.get("errors")):
        # The preview missed Slack's 3-second deadline on a loaded machine (the server process's first
        # one): the form says so, nothing was filed, and submitting again is what the person is told.
        preview = submit_directive_form(driver, view, picked)
    assert preview.json and preview.json.get("response_action") == "update", preview.body
    assert "Zephyr 149" in json.dumps(preview.json["view"]["blocks"])


def submit_directive_form(driver: SlackDriver, view: dict[str, Any], picked: list[dict[str, Any]]) -> Any:
    """Submit the directive form with `picked` in its multi_external_select, as Slack does.

    SlackDriver.submit_view fills static menus from the options in the view; an external menu's
    options come from the bot, so the state is built here: the menu is filled as if static, then
    given back its real type.
    """
    shown = copy.deepcopy(view)
    element(shown, ids.DIRECTIVE_MODELS_BLOCK).update(type="multi_static_select", options=picked)
    state = build_state(
        shown,
        {
            "d_title": "Zephyr 149 withdrawn",
            "d_authority": "US Department of Commerce",
            "d_reference": "EO-2026-200",
            "d_notice": "Zephyr 149 may no longer be used by foreign nationals.",
            "d_models": [o["value"] for o in picked],
            "d_population": "non-us-persons",
            "d_action": "suspend",
        },
    )
    state["values"][ids.DIRECTIVE_MODELS_BLOCK][ids.DIRECTIVE_MODELS_ACTION]["type"] = "multi_external_select"
    submitted = driver.emulator.api_view(view)
    submitted["state"] = state
    payload = {
        "type": "view_submission",
        "team": {"id": driver.team_id, "domain": driver.team_domain},
        "user": {"id": ADMIN, "username": "dana", "name": "dana", "team_id": driver.team_id},
        "api_app_id": driver.api_app_id,
        "is_enterprise_install": False,
        "enterprise": None,
        "trigger_id": driver.emulator.new_trigger_id(ADMIN),
        "view": submitted,
        "response_urls": [],
    }
    return driver.raw(urlencode({"payload": json.dumps(payload)}).encode(), content_type=FORM)


def test_workflows_check_warns_that_the_forms_will_search(big: BotServer, big_workflows: Path) -> None:
    result = run_cli(big, "workflows", "check")
    assert f"OK ({EXTRA + 7} models" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any(
        f"{EXTRA + 7} models are more than a Slack menu holds (100): the request and directive forms show "
        "a search box" in line
        for line in warnings
    ), result.stderr
