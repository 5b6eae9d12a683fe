"""Every Slack message and view template, rendered from the data the services really produce.

- Every template in templates/ has samples here, one per branch a reader can see (template_data.py).
- Realistic and worst-case samples (3,000-character texts full of `&<>`, 60-character model names,
  101 models, 50 grants / requests / approvals, 30 approvers) pass slack_sdk's Block Kit models and the
  SLACK.md limits, carry a non-empty fallback `text` that chat.update accepts, and contain only
  well-formed mrkdwn.
- Text people and admins typed never becomes a mention, a ping or a link: wherever Slack reads mrkdwn
  (the fallback `text` and every mrkdwn text object), it arrives escaped. plain_text objects are out of
  scope: Slack never parses them for mentions or links.
- Approve / Deny buttons appear exactly when the approver can still decide, with the ids the listeners
  are registered for and the button value the service chose.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.domain.catalog import Policy
from bot.emulator.limits import UPDATE_TEXT_MAX, check_message, check_update_text, check_view
from bot.emulator.text import blocks_to_text, message_to_text
from bot.render import Renderer, escape_mrkdwn
from bot.services.approvals import MAX_REASON, parse_button_value
from bot.slack import ids
from tests.unit.template_data import (
    BUTTON_VARIANTS,
    INJECTION,
    INJECTION_FIELDS,
    REALISTIC,
    TEMPLATE_VARIANTS,
    TEMPLATES_DIR,
    WORST_CASE,
    Sample,
    build_samples,
    hostile,
)

RENDERER = Renderer(TEMPLATES_DIR)
ALL_VARIANTS = [f"{t}:{v}" for t, variants in TEMPLATE_VARIANTS.items() for v in variants]
RAW_TOKENS = ("<!channel>", "<@U1>", "<https://x|y>")
ESCAPED_INJECTION = escape_mrkdwn(INJECTION)  # &lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt; &amp;amp;

# The control sequences the bot itself writes: mentions, channel links and localised dates.
_OWN_SEQUENCE = re.compile(r"<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!date\^\d+\^[^|<>]+\|[^<>]+)>")
_BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    return build_samples(tmp_path_factory.mktemp("realistic"), REALISTIC)


@pytest.fixture(scope="module")
def worst_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    return build_samples(tmp_path_factory.mktemp("worst"), WORST_CASE)


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Sample]]:
    """Samples from a world where one user-controlled field holds INJECTION (built once per field)."""
    built: dict[str, dict[str, Sample]] = {}

    def samples(field: str) -> dict[str, Sample]:
        if field not in built:
            built[field] = build_samples(tmp_path_factory.mktemp(field), REALISTIC.with_injection(field))
        return built[field]

    return samples


# -- helpers ------------------------------------------------------------------------------------------


def render(sample: Sample, **override: Any) -> dict[str, Any]:
    return RENDERER.render(sample.template, **{**sample.data, **override})


def is_view(payload: dict[str, Any]) -> bool:
    return payload.get("type") in ("modal", "home")


def walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in `node`, with its path."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def block_mrkdwn(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, text) of every mrkdwn text object in the blocks."""
    return [
        (path, obj["text"])
        for path, obj in walk(payload.get("blocks", []), "blocks")
        if obj.get("type") == "mrkdwn" and isinstance(obj.get("text"), str)
    ]


def parsed_as_mrkdwn(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """Everything Slack reads as mrkdwn: a message's fallback `text`, and every mrkdwn text object."""
    fallback = [("text", payload["text"])] if isinstance(payload.get("text"), str) else []
    return fallback + block_mrkdwn(payload)


def malformed(text: str) -> list[str]:
    """What in `text` Slack would not show as intended: a half entity, or a `<`/`>` that is not one of
    the control sequences the bot writes (an unescaped user `<`, a cut mention or date)."""
    problems = [f"broken entity {text[m.start() : m.start() + 6]!r}" for m in _BROKEN_ENTITY.finditer(text)]
    rest = _OWN_SEQUENCE.sub("", text)
    problems += [f"stray {rest[m.start() : m.start() + 20]!r}" for m in re.finditer(r"[<>]", rest)]
    return problems


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [obj for _, obj in walk(payload.get("blocks", [])) if obj.get("type") == "button"]


def visible(payload: dict[str, Any]) -> str:
    """Roughly what a person reads: mentions as @U…, dates as their fallback, entities unescaped."""
    return blocks_to_text(payload["blocks"]) if is_view(payload) else message_to_text(payload)


def assert_slack_accepts(payload: dict[str, Any]) -> None:
    if is_view(payload):
        assert check_view(payload) == []
        return
    assert check_message(payload) == []
    text = payload.get("text")
    assert isinstance(text, str) and text.strip(), "a message needs a non-empty fallback text"
    assert len(text) <= UPDATE_TEXT_MAX and check_update_text(text) == []
    assert payload.get("blocks"), "every message has blocks"


# -- every template is covered -------------------------------------------------------------------------


def test_every_template_has_sample_data() -> None:
    names = {n for n in Renderer(TEMPLATES_DIR).template_names() if not n.startswith("_")}
    assert all(n.endswith(".json.j2") for n in names), f"templates the renderer cannot load: {names}"
    templates = {n.removesuffix(".json.j2") for n in names}
    untested = templates - TEMPLATE_VARIANTS.keys()
    assert not untested, f"templates without sample data in tests/unit/template_data.py: {sorted(untested)}"
    stale = TEMPLATE_VARIANTS.keys() - templates
    assert not stale, f"sample data for templates that no longer exist: {sorted(stale)}"


def test_the_services_produce_every_variant(
    realistic: dict[str, Sample], worst_case: dict[str, Sample]
) -> None:
    assert sorted(realistic) == sorted(ALL_VARIANTS)
    assert sorted(worst_case) == sorted(ALL_VARIANTS)


def test_worst_case_inputs_are_as_big_as_the_bot_accepts(worst_case: dict[str, Sample]) -> None:
    request = worst_case["approval_request:buttons"].data["request"]
    assert len(request["justification"]) == Policy().justification_max_chars == 3000
    assert sum(c in "&<>" for c in request["justification"]) > 600
    assert len(request["model_name"]) == 60  # the most workflows.py allows
    assert len(worst_case["approval_request:denied"].data["step"]["denial"]["reason"]) == MAX_REASON
    assert len(worst_case["grant_update:revoked"].data["grant"]["end_reason"]) == MAX_REASON
    partial = worst_case["approval_request:partial_quorum"].data["step"]
    assert len(partial["name"]) == 100 and len(partial["approvals"]) == 9 and partial["quorum"] == 10
    models = worst_case["models:catalog"].data["models"]
    assert len(models) == 101 and {len(m["provider"]) for m in models} == {60}
    assert {len(m["slug"]) for m in models if m["slug"].startswith("model-")} == {64}


# -- Block Kit and SLACK.md limits ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ALL_VARIANTS)
def test_realistic_payload_is_accepted_by_slack(realistic: dict[str, Sample], key: str) -> None:
    payload = render(realistic[key])
    assert_slack_accepts(payload)
    assert [(path, malformed(text)) for path, text in block_mrkdwn(payload) if malformed(text)] == []


# Known failures would be listed here as {case id: reason}; none remain.
WORST_CASE_BUGS: dict[str, str] = {}


def _worst_cases() -> list[Any]:
    return [
        pytest.param(
            key,
            marks=[pytest.mark.xfail(reason=WORST_CASE_BUGS[key], raises=AssertionError, strict=True)]
            if key in WORST_CASE_BUGS
            else [],
            id=key,
        )
        for key in ALL_VARIANTS
    ]


@pytest.mark.parametrize("key", _worst_cases())
def test_worst_case_payload_is_accepted_by_slack(worst_case: dict[str, Sample], key: str) -> None:
    payload = render(worst_case[key])
    assert_slack_accepts(payload)
    assert [(path, malformed(text)) for path, text in block_mrkdwn(payload) if malformed(text)] == []


# Quoted user text with many short lines grows by a quote marker per line; the cut must still land
# between entities, never inside one (`&g…` on screen).
QUOTED_TEXT = {
    "approval_request:buttons": ("request", "justification"),
    "approval_request:denied": ("step", "denial", "reason"),
    "request_update:denied_by_person": ("request", "reason"),
    "grant_update:revoked": ("grant", "end_reason"),
}


@pytest.mark.parametrize("key", sorted(QUOTED_TEXT))
@pytest.mark.parametrize("line", [3, 5, 8, 12, 20, 40, 80])
def test_long_quoted_text_is_clipped_cleanly(worst_case: dict[str, Sample], key: str, line: int) -> None:
    sample = worst_case[key]
    data = copy.deepcopy(sample.data)
    *parents, leaf = QUOTED_TEXT[key]
    holder = data
    for name in parents:
        holder = holder[name]
    holder[leaf] = "Because:\n" + hostile(3000 - 9, line=line)
    payload = RENDERER.render(sample.template, **data)
    assert_slack_accepts(payload)
    assert [(path, malformed(text)) for path, text in block_mrkdwn(payload) if malformed(text)] == []
    quoted = [text for _, text in block_mrkdwn(payload) if "&gt; Because:\n&gt; &amp;" in text]
    assert len(quoted) == 1 and quoted[0].endswith("…"), "text too long to show is cut visibly"


# -- user text stays text ------------------------------------------------------------------------------

# Known failures would be listed here as {(field, template): reason}; none remain.
INJECTION_BUGS: dict[tuple[str, str], str] = {}


def _injection_cases() -> list[Any]:
    cases = []
    for field, templates in INJECTION_FIELDS.items():
        for template in templates:
            bug = INJECTION_BUGS.get((field, template))
            marks = [pytest.mark.xfail(reason=bug, raises=AssertionError, strict=True)] if bug else []
            cases.append(pytest.param(field, template, marks=marks, id=f"{field}-{template}"))
    return cases


def test_injection_bug_list_names_real_cases() -> None:
    assert set(INJECTION_BUGS) <= {(f, t) for f, templates in INJECTION_FIELDS.items() for t in templates}


@pytest.mark.parametrize(("field", "template"), _injection_cases())
def test_user_text_never_becomes_a_mention_or_link(
    injected: Callable[[str], dict[str, Sample]], field: str, template: str
) -> None:
    samples = [s for s in injected(field).values() if s.template == template]
    assert samples
    leaks, shown = [], False
    for sample in samples:
        for path, text in parsed_as_mrkdwn(render(sample)):
            # Case-insensitive: a typed model name is lower-cased before it is shown.
            leaks += [
                f"{sample.key} {path}: {token}" for token in RAW_TOKENS if token.lower() in text.lower()
            ]
            shown = shown or ESCAPED_INJECTION.lower() in text.lower()
    assert leaks == []
    assert shown, f"no {template} sample shows the {field} as escaped text"


def test_justification_reaches_approvers_as_literal_text(
    injected: Callable[[str], dict[str, Sample]],
) -> None:
    payload = render(injected("justification")["approval_request:buttons"])
    section = next(text for _, text in block_mrkdwn(payload) if text.startswith("*Justification*"))
    assert section == "*Justification*\n&gt; " + ESCAPED_INJECTION
    assert "> <!channel> <@U1> <https://x|y> &amp;" in visible(payload)


# -- approval buttons ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", TEMPLATE_VARIANTS["approval_request"])
def test_buttons_only_while_the_approver_can_decide(realistic: dict[str, Sample], variant: str) -> None:
    sample = realistic[f"approval_request:{variant}"]
    payload = render(sample)
    expected = variant in BUTTON_VARIANTS
    assert sample.data["show_buttons"] is expected
    found = buttons(payload)
    if not expected:
        assert found == []
        assert payload["blocks"][-2] == {"type": "divider"}
        return
    request_id = sample.data["request"]["id"]
    position = sample.data["step"]["position"]
    assert sample.data["button_value"] == f"{request_id}:{position}"
    assert parse_button_value(sample.data["button_value"]) == (request_id, position)
    actions = payload["blocks"][-1]
    assert actions["type"] == "actions" and actions["elements"] == found
    assert [(b["action_id"], b["text"]["text"], b["style"], b["value"]) for b in found] == [
        (ids.APPROVE_ACTION, "Approve", "primary", sample.data["button_value"]),
        (ids.DENY_ACTION, "Deny…", "danger", sample.data["button_value"]),
    ]


@pytest.mark.parametrize("show", [True, False])
def test_show_buttons_alone_decides_the_buttons(realistic: dict[str, Sample], show: bool) -> None:
    payload = render(realistic["approval_request:buttons"], show_buttons=show, button_value="4711:2")
    found = [(b["action_id"], b["value"]) for b in buttons(payload)]
    assert found == ([(ids.APPROVE_ACTION, "4711:2"), (ids.DENY_ACTION, "4711:2")] if show else [])
    assert ("your decision is needed" in payload["text"]) is show


# -- what people read ----------------------------------------------------------------------------------

SEES: dict[str, tuple[str, ...]] = {
    "approval_request:buttons": ("@U0ALICE asks for *Mythos 0* for *30 days*.", "1 of 3: Manager"),
    "approval_request:step_approved": ("✅ Step 1 approved by @U0MGR", "· now at step 2 of 3"),
    "approval_request:approved": ("✅ Step 3 approved by @U0EXP1", "· access granted"),
    "approval_request:denied": ("⛔ Denied by @U0EXP2", "> " + REALISTIC.reason, "⚠️ Citizenship"),
    "approval_request:partial_quorum": ("Approved so far by @U0OWN00 (1 of 2).", "(2 approvals needed)"),
    "approval_request:partial_quorum_mine": ("✅ You approved", "waiting for 1 more approval(s)."),
    "approval_request:quorum_approved": ("approved by @U0OWN00, @U0OWN01", "· access granted"),
    "approval_request:via_admin": (
        "You are asked as an access admin. Only 2 of the 3 approvers",
        "⚠️ Citizenship or work country is not on file",
    ),
    "approval_request:cancelled": ("🚫 The requester cancelled this request.",),
    "approval_request:expired": ("🚫 This request expired without a decision.",),
    "request_update:filed": ("is filed.*", "Now waiting on step 1 of 1 (Model owner): @U0OWN00, @U0OWN01"),
    "request_update:step_approved": ("(Manager) of R1 is approved* by @U0MGR.", "step 2 of 3 (Model owner)"),
    "request_update:approved": ("you now have access to Mythos 0 (grant G1) until",),
    "request_update:denied_by_person": ("was denied by @U0EXP2 at step 3.*", "> " + REALISTIC.reason),
    "request_update:denied_by_policy": ("was denied.*\nMythos 0 is limited to US persons",),
    "request_update:expired": ("expired* without a decision.",),
    "request_update:cancelled": ("is cancelled.", "Cancelled by the requester."),
    "request_result:filed": (
        "filed:* Mythos 1 for 30 days.",
        "Waiting on step 1 of 1 (Model owner): @U0OWN00",
    ),
    "request_result:denied": ("was denied.*", "contact your access admins"),
    "grant_update:revoked": ("was revoked* by @U0ADM00.", "> " + REALISTIC.reason),
    "grant_update:expired": ("has expired.*", "Ask again with `/access`"),
    "notice:refused": ("⚠️ *Request not filed*", "There is no model called 'gpt-9'. Models: legacy-2, "),
    "help:admin": ("*Admins:*",),
    "status:not_in_directory": ("You are not in the AccessBot directory yet", "_None._", "_Nothing._"),
    "home:not_in_directory": ("You are not in the AccessBot directory yet", "You hold no grants."),
    "deny_modal:deny": ("You are denying *R1*.",),
}


@pytest.mark.parametrize("key", sorted(SEES))
def test_reader_sees(realistic: dict[str, Sample], key: str) -> None:
    shown = visible(render(realistic[key]))
    missing = [text for text in SEES[key] if text not in shown]
    assert missing == [], shown


def test_help_shows_the_admin_commands_to_admins_only(realistic: dict[str, Sample]) -> None:
    assert "/access revoke" in visible(render(realistic["help:admin"]))
    assert "/access revoke" not in visible(render(realistic["help:member"]))


def test_deny_form_carries_the_clicked_button(realistic: dict[str, Sample]) -> None:
    view = render(realistic["deny_modal:deny"])
    assert view["callback_id"] == ids.DENY_VIEW
    assert view["private_metadata"] == realistic["approval_request:buttons"].data["button_value"]
    assert view["title"]["text"] == "Deny R1"
    reason = view["blocks"][1]
    assert (reason["block_id"], reason["element"]["action_id"]) == (
        ids.DENY_REASON_BLOCK,
        ids.DENY_REASON_ACTION,
    )
    assert reason["element"]["max_length"] == 3000


def test_request_form_offers_at_most_100_models_and_preselects_one(worst_case: dict[str, Sample]) -> None:
    blank = render(worst_case["request_modal:blank"])
    chosen = render(worst_case["request_modal:initial_model"])
    select = blank["blocks"][1]["element"]
    assert select["action_id"] == ids.REQUEST_MODEL_ACTION
    assert len(select["options"]) == 100
    assert len(worst_case["request_modal:blank"].data["models"]) == 101
    assert "initial_option" not in select
    initial = chosen["blocks"][1]["element"]["initial_option"]
    assert initial["value"] == worst_case["request_modal:initial_model"].data["initial_model"]
    assert initial in chosen["blocks"][1]["element"]["options"]
    justification = chosen["blocks"][3]["element"]
    assert 1 <= justification["min_length"] <= justification["max_length"] <= 3000


def test_long_lists_are_cut_and_say_so(worst_case: dict[str, Sample]) -> None:
    status = worst_case["status:busy"].data
    assert len(status["grants"]) == len(status["requests"]) == len(status["approvals"]) == 50
    status_text = visible(render(worst_case["status:busy"]))
    assert status_text.count("(G") == 12 and status_text.count(" wants ") == 12
    assert "Some lists are cut short" in status_text
    assert render(worst_case["status:busy"])["text"] == (
        "Your access: 50 grant(s), 50 pending request(s), 50 approval(s) waiting on you"
    )
    home = visible(render(worst_case["home:busy"]))
    assert home.count("[Relinquish]") == home.count("[Cancel]") == home.count("[Approve]") == 10
    assert home.count("…and 40 more") == 3 and "…and 81 more: `/access models`." in home
    assert "…and 56 more." in visible(render(worst_case["models:catalog"]))


def test_long_waiting_lists_are_cut_and_say_so(worst_case: dict[str, Sample]) -> None:
    update = worst_case["request_update:filed"]
    assert len(update.data["next_step"]["waiting_on"]) == 30
    waiting = next(text for _, text in block_mrkdwn(render(update)) if text.startswith("Now waiting"))
    assert waiting.count("<@") == 20 and waiting.endswith("….")


def test_long_justification_is_cut_visibly(worst_case: dict[str, Sample]) -> None:
    payload = render(worst_case["approval_request:buttons"])
    section = next(text for _, text in block_mrkdwn(payload) if text.startswith("*Justification*"))
    assert section.endswith("…") and len(section) <= 3000
    assert section.startswith("*Justification*\n&gt; &amp;&amp;D &lt;team&gt;")
