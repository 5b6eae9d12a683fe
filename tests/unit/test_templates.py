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
- Directives (notices to people, channel posts, the admin's progress message, the form, its confirmation,
  the list and the report), for every phase: what a directive admin typed never appears raw anywhere but
  in plain_text; channel posts never name, mention or give the citizenship of anyone affected; and each
  person, admin and report is told what really happened.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.catalog import Policy
from bot.domain.directives import MAX_AUTHORITY, MAX_NAMED_USERS, MAX_NOTICE, MAX_REFERENCE, MAX_TITLE
from bot.domain.licences import MAX_AUTHORITY as MAX_LICENCE_AUTHORITY
from bot.domain.licences import MAX_CONDITIONS, LicenceKind
from bot.domain.licences import MAX_NUMBER as MAX_LICENCE_NUMBER
from bot.emulator.limits import UPDATE_TEXT_MAX, check_message, check_update_text, check_view
from bot.emulator.text import blocks_to_text, message_to_text
from bot.present.mrkdwn import escape_mrkdwn
from bot.present.replies import Screen, from_stored, to_stored
from bot.render import Renderer
from bot.services.approvals import MAX_REASON, ButtonValue, parse_button_value
from bot.slack import ids
from tests.unit.template_cache import CACHE_FOLDER, PROFILES, cached
from tests.unit.template_data import (
    BUTTON_VARIANTS,
    DIRECTIVE_FIELDS,
    INJECTION,
    INJECTION_FIELDS,
    REALISTIC,
    TEMPLATE_VARIANTS,
    TEMPLATES_DIR,
    WORST_CASE,
    Sample,
    build_samples,
    hostile,
    injection_of,
)

RENDERER = Renderer(TEMPLATES_DIR)
ALL_VARIANTS = [f"{t}:{v}" for t, variants in TEMPLATE_VARIANTS.items() for v in variants]
RAW_TOKENS = ("<!channel>", "<@U1>", "<https://x|y>")
ESCAPED_INJECTION = escape_mrkdwn(INJECTION)  # &lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt; &amp;amp;

# The control sequences the bot itself writes: mentions, channel links and localised dates.
_OWN_SEQUENCE = re.compile(r"<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!date\^\d+\^[^|<>]+\|[^<>]+)>")
_BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def samples_of(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Callable[[str], dict[str, Sample]]:
    """Samples by profile name (template_cache.PROFILES), built once: kept in pytest's cache when it is
    on (template_cache.py), else in this process."""
    built: dict[str, dict[str, Sample]] = {}
    cache = getattr(pytestconfig, "cache", None)

    def samples(name: str) -> dict[str, Sample]:
        if name not in built:
            make = lambda: build_samples(tmp_path_factory.mktemp(name), PROFILES[name])  # noqa: E731
            built[name] = make() if cache is None else cached(Path(cache.mkdir(CACHE_FOLDER)), name, make)
        return built[name]

    return samples


@pytest.fixture(scope="session")
def realistic(samples_of: Callable[[str], dict[str, Sample]]) -> dict[str, Sample]:
    return samples_of("realistic")


@pytest.fixture(scope="session")
def worst_case(samples_of: Callable[[str], dict[str, Sample]]) -> dict[str, Sample]:
    return samples_of("worst")


@pytest.fixture(scope="session")
def injected(samples_of: Callable[[str], dict[str, Sample]]) -> dict[str, Sample]:
    """Samples from a world where every user-controlled field holds INJECTION, tagged with the field's
    name (`injection_of`): one world, built once, in which each field's text can still be told apart."""
    return samples_of("injected")


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


@pytest.mark.parametrize("profile", ["realistic", "worst_case"])
def test_every_message_can_wait_in_the_outbox_and_renders_the_same_after(
    profile: str, request: pytest.FixtureRequest
) -> None:
    """Any message may be queued (a slow answer, a DM): its data survives the outbox's JSON column and
    renders exactly as it would have when it was queued."""
    samples: dict[str, Sample] = request.getfixturevalue(profile)
    for key, sample in samples.items():
        screen = Screen(sample.template, sample.data)
        stored = json.loads(json.dumps(to_stored(screen)))
        assert RENDERER.reply(from_stored(stored)) == RENDERER.reply(screen), key


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


# Known failures: {case id: reason}.
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
    injected: dict[str, Sample], field: str, template: str
) -> None:
    samples = [s for s in injected.values() if s.template == template]
    assert samples
    escaped = escape_mrkdwn(injection_of(field)).lower()
    leaks, shown = [], False
    for sample in samples:
        for path, text in parsed_as_mrkdwn(render(sample)):
            # Case-insensitive: a typed model name is lower-cased before it is shown.
            leaks += [
                f"{sample.key} {path}: {token}" for token in RAW_TOKENS if token.lower() in text.lower()
            ]
            shown = shown or escaped in text.lower()
    assert leaks == []
    assert shown, f"no {template} sample shows the {field} as escaped text"


def test_justification_reaches_approvers_as_literal_text(
    injected: dict[str, Sample],
) -> None:
    payload = render(injected["approval_request:buttons"])
    section = next(text for _, text in block_mrkdwn(payload) if text.startswith("*Justification*"))
    assert section == "*Justification*\n&gt; " + ESCAPED_INJECTION + " markjustification"
    assert "> <!channel> <@U1> <https://x|y> &amp; markjustification" in visible(payload)


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
    assert parse_button_value(sample.data["button_value"]) == ButtonValue(request_id, position)
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
    "directive_confirm:named_users": (
        "26 people",
        "25 of them are not in the AccessBot directory:",
        "`U0NOBODY00`",
        "and 5 more",
        "anyone Slack does not know is reported as not notified",
    ),
    "status:not_in_directory": ("You are not in the AccessBot directory yet", "_None._", "_Nothing._"),
    "home:not_in_directory": ("You are not in the AccessBot directory yet", "You hold no grants."),
    "deny_modal:deny": ("You are denying *R1*.",),
    "directive_notice:active_restricting": (
        "⛔ *Directive D1: " + REALISTIC.title + "* is in effect.",
        "*Your grants*\n• Your access to *Mythos 3* (G9) is *suspended*.",
        "• Your pending request R24 for *Mythos 2* was stopped.",
        "> " + REALISTIC.notice,
        "Reference: " + REALISTIC.reference,
    ),
    "directive_notice:active_nothing_held": (
        "• You cannot be granted Mythos 3, Mythos 6",
        "while it is in force.",
    ),
    "directive_notice:active_notice_only": ("📣 *Directive D3: ", "• Your access does not change"),
    "directive_notice:warning": (
        "* takes effect 2026-04-06 09:31 UTC.",
        "• Your access to *Mythos 1* (G14) will be suspended.",
        "• Your pending request R28 for *Mythos 0* will be stopped if still pending.",
    ),
    "directive_notice:lifted": (
        "* has been lifted.",
        "• G9 (Mythos 3) stays suspended under directive D2.",
        "• Your access to *Mythos 1* (G10) is back, until 2026-04-27 09:31 UTC.",
        "• G11 (Mythos 6) is expired and does not come back.",
        "• R24 (Mythos 2) stays closed; ask again with `/access` if you still need it.",
        "*Why it was lifted*\n> " + REALISTIC.lift_reason,
    ),
    "directive_notice:withdrawn": ("* was withdrawn before it took effect; nothing changes for you.",),
    "directive_channel:active_restricted": (
        ": restricted for non-US persons (including anyone whose US-person status is not on file).",
        "The people affected have been told directly.",
    ),
    "directive_channel:active_everyone": ("📣 *Directive D4: ", ": suspended for everyone."),
    "directive_channel:active_named": (": restricted for 3 named people.",),
    "directive_channel:active_notice_only": (": subject to a notice for everyone.",),
    "directive_channel:warning": (
        "* takes effect 2026-04-06 09:31 UTC. From then",
        "suspended for everyone.",
    ),
    "directive_channel:lifted": ("* has been lifted. Access to Mythos 3,", "suspended by it is restored."),
    "directive_channel:withdrawn": ("* was withdrawn before it took effect.",),
    "directive_progress:issued": ("is in effect.", "⏳ *Notices:* 0 sent of 5, 0 failed, 5 on the way."),
    "directive_progress:warning": ("is scheduled for 2026-04-06 09:31 UTC.", "*Warnings:* 0 sent of"),
    "directive_progress:delivered": ("✅ *Notices:* ", " 0 failed."),
    "directive_progress:undelivered": (
        "⏳ *Notices:* 3 sent of 6, 2 failed, 1 on the way.",
        "• @U0ERIK: `account_inactive`\n• #C0EXPORTS: `not_in_channel`",
    ),
    "directive_confirm:now": (
        "Applies to citizens of FR (including anyone whose citizenship is not on file)",
        "0 grant(s) suspended, 1 already suspended",
        "· takes effect now",
    ),
    "directive_confirm:scheduled": (
        "*Impact today (applied when it takes effect)*",
        "will be told by DM now, and again when it takes effect",
    ),
    "directive_confirm:notice_only": ("• *Mythos 0*: no access changes · channels: #C0AIFRONT, #C0EXPORTS",),
    "directive_list:empty": ("No directives yet.",),
    "directive_list:directives": ("⚪ *D12* ", "🕒 *D11* ", "🔴 *D10* ", "⚪ *D1* "),
    "directive_report:undelivered": ("• 3 people affected", "• 2 notice(s) not delivered"),
    "licence_list:empty": ("No licences on record.",),
    "licence_list:licences": (
        "🟢 *L5* " + REALISTIC.licence_authority + " D0000004 · export · @U0CAROL",
        "🟢 *L2* " + REALISTIC.licence_authority + " D0000001 · re-export · @U0ERIK",
        "Models: lumen-3, mythos-5 · Countries: DE;FR",
        "· active, not in effect yet",
        "🔴 *L1* ",
        "· revoked",
        "`/licence revoke L3 <reason>` revokes one.",
    ),
    "licence_list:one_holder": ("Held by @U0CAROL", "*L5*", "*L3*", "*L1*"),
    "notice:licence_recorded": (
        "✅ *Licence recorded*",
        "Recorded L1 (" + REALISTIC.licence_authority + " D0000000, export) held by @U0CAROL: lumen-3, "
        "mythos-5 for DE;FR, valid 2026-04-07 to 2027-04-07. No grant or pending request changed.",
    ),
    "notice:licence_revoked": ("✅ *Licence revoked*", "Revoked L1. No grant or pending request changed."),
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


def test_request_form_lists_every_model_of_a_small_catalog_and_preselects_one(
    realistic: dict[str, Sample],
) -> None:
    sample = realistic["request_modal:blank"]
    select = render(sample)["blocks"][1]["element"]
    assert (select["type"], select["action_id"]) == ("static_select", ids.REQUEST_MODEL_ACTION)
    assert [o["value"] for o in select["options"]] == [m["slug"] for m in sample.data["models"]]
    assert "initial_option" not in select
    chosen = render(realistic["request_modal:initial_model"])["blocks"][1]["element"]
    assert chosen["initial_option"]["value"] == realistic["request_modal:initial_model"].data["initial_model"]
    assert chosen["initial_option"] in chosen["options"]


def test_request_form_searches_a_catalog_too_big_for_a_menu_and_preselects_one(
    worst_case: dict[str, Sample],
) -> None:
    # 101 models: a static select would show 100 and silently drop one; the form searches instead.
    assert len(worst_case["request_modal:blank"].data["models"]) == 101
    blank = render(worst_case["request_modal:blank"])
    model = blank["blocks"][1]
    select = model["element"]
    assert (select["type"], select["action_id"]) == ("external_select", ids.REQUEST_MODEL_ACTION)
    assert "options" not in select and "initial_option" not in select
    assert select["min_query_length"] == 0 and select["placeholder"]["text"] == "Search 101 models"
    assert "search all 101 models" in model["hint"]["text"]
    chosen = render(worst_case["request_modal:initial_model"])
    initial = chosen["blocks"][1]["element"]["initial_option"]
    assert initial["value"] == worst_case["request_modal:initial_model"].data["initial_model"]
    assert len(initial["text"]["text"]) <= 75
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


# -- directives ----------------------------------------------------------------------------------------

DIRECTIVE_TEMPLATES = tuple(t for t in TEMPLATE_VARIANTS if t.startswith("directive_"))


def unparsed_excluded(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) of every string in `node` but the text of plain_text objects, which Slack shows as
    it is and never reads as mrkdwn: the fallback text, mrkdwn, ids, values, metadata."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not (key == "text" and node.get("type") == "plain_text"):
                yield from unparsed_excluded(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from unparsed_excluded(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def test_worst_case_directives_are_as_big_as_the_bot_accepts(worst_case: dict[str, Sample]) -> None:
    directive = worst_case["directive_channel:active_restricted"].data["directive"]
    sizes = [len(directive[key]) for key in ("title", "authority", "reference", "notice")]
    assert sizes == [MAX_TITLE, MAX_AUTHORITY, MAX_REFERENCE, MAX_NOTICE] == [150, 150, 100, 2500]
    assert sum(c in "&<>" for c in directive["notice"]) > 400
    assert len(directive["models"]) == 100 and {len(name) for name in directive["models"]} == {60}
    assert len(worst_case["directive_modal:form"].data["models"]) == 101
    assert len(worst_case["directive_notice:lifted"].data["directive"]["lift_reason"]) == 3000
    notice = worst_case["directive_notice:active_restricting"].data
    assert (len(notice["grants"]), len(notice["requests"])) == (50, 49)
    named = worst_case["directive_channel:active_named"]
    assert named.data["directive"]["population"] == f"{MAX_NAMED_USERS} named people"
    assert len(named.affected) == 500 and len({c for p in named.affected for c in p.citizenships}) >= 12
    progress = worst_case["directive_progress:undelivered"].data
    assert progress["counts"]["failed"] == 451 and len(progress["failures"]) == 20
    assert len(worst_case["directive_list:directives"].data["directives"]) == 50
    assert worst_case["directive_report:undelivered"].data["report"]["summary"]["people"] == 500


# Known failures: {(field, template): reason}.
DIRECTIVE_INJECTION_BUGS: dict[tuple[str, str], str] = {}


def _directive_injection_cases() -> list[Any]:
    cases = []
    for field in DIRECTIVE_FIELDS:
        for template in DIRECTIVE_TEMPLATES:
            bug = DIRECTIVE_INJECTION_BUGS.get((field, template))
            marks = [pytest.mark.xfail(reason=bug, raises=AssertionError, strict=True)] if bug else []
            cases.append(pytest.param(field, template, marks=marks, id=f"{field}-{template}"))
    return cases


@pytest.mark.parametrize(("field", "template"), _directive_injection_cases())
def test_directive_text_never_appears_raw(injected: dict[str, Sample], field: str, template: str) -> None:
    """Anywhere in the JSON, the fallback text included; only plain_text may carry it as typed."""
    samples = [s for s in injected.values() if s.template == template]
    assert samples
    leaks = [
        f"{sample.key} {path}: {token}"
        for sample in samples
        for path, text in unparsed_excluded(render(sample))
        for token in RAW_TOKENS
        if token.lower() in text.lower()
    ]
    assert leaks == []


def _channel_cases() -> list[Any]:
    return [
        pytest.param(profile, variant, id=f"{profile}-{variant}")
        for profile in ("realistic", "worst_case")
        for variant in TEMPLATE_VARIANTS["directive_channel"]
    ]


@pytest.mark.parametrize(("profile", "variant"), _channel_cases())
def test_channel_posts_never_say_who_is_affected(
    request: pytest.FixtureRequest, profile: str, variant: str
) -> None:
    """No user id, name or citizenship of anyone the directive affected: the post states the rule only.
    Country codes the rule itself names (citizens of FR, non-US persons) are the rule, not a person's."""
    sample = request.getfixturevalue(profile)[f"directive_channel:{variant}"]
    assert any(p.citizenships for p in sample.affected) and any(p.name for p in sample.affected)
    posted = json.dumps(render(sample), ensure_ascii=False)
    rule = set(re.findall(r"\b[A-Z]{2}\b", sample.data["directive"]["population"]))
    found = ["a mention"] if "<@" in posted else []
    for person in sample.affected:
        found += [f"{person.user_id}: id"] if person.user_id in posted else []
        found += [f"{person.user_id}: name"] if person.name and person.name in posted else []
        found += [
            f"{person.user_id}: citizenship {code}"
            for code in sorted(set(person.citizenships) - rule)
            if re.search(rf"\b{code}\b", posted)
        ]
    assert found == []


# Known failures: {case id: reason}.
REPORT_BUGS: dict[str, str] = {}


def _report_cases() -> list[Any]:
    cases = []
    for profile in ("realistic", "worst_case"):
        for variant in TEMPLATE_VARIANTS["directive_report"]:
            case = f"{profile}-{variant}"
            bug = REPORT_BUGS.get(case)
            marks = [pytest.mark.xfail(reason=bug, raises=AssertionError, strict=True)] if bug else []
            cases.append(pytest.param(profile, variant, marks=marks, id=case))
    return cases


@pytest.mark.parametrize(("profile", "variant"), _report_cases())
def test_report_counts_the_people_its_directive_affected(
    request: pytest.FixtureRequest, profile: str, variant: str
) -> None:
    sample = request.getfixturevalue(profile)[f"directive_report:{variant}"]
    report = sample.data["report"]
    assert sorted(p["slack_user_id"] for p in report["people"]) == [p.user_id for p in sample.affected]
    assert report["summary"]["people"] == len(sample.affected)
    assert f"• {len(sample.affected)} people affected" in visible(render(sample))


LIFTED_GRANT_LINES: dict[str, tuple[Callable[[dict[str, Any]], bool], str]] = {
    "reinstated": (lambda g: g["status"] == "active", "• Your access to *{model_name}* ({label}) is back"),
    "held_elsewhere": (
        lambda g: g["status"] == "suspended" and g["held_elsewhere"],
        "• {label} ({model_name}) stays suspended under directive D2.",
    ),
    # Two grants expired while suspended, one of them while D2 held it too: ending a grant releases it
    # from every directive, so neither is said to be held by one.
    "expired": (
        lambda g: g["status"] == "expired" and not g["held_elsewhere"],
        "• {label} ({model_name}) is expired and does not come back.",
    ),
}
LIFTED_GRANT_BUGS: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            marks=[pytest.mark.xfail(reason=LIFTED_GRANT_BUGS[case], raises=AssertionError, strict=True)]
            if case in LIFTED_GRANT_BUGS
            else [],
        )
        for case in LIFTED_GRANT_LINES
    ],
)
def test_lifted_notice_says_what_became_of_each_grant(realistic: dict[str, Sample], case: str) -> None:
    sample = realistic["directive_notice:lifted"]
    which, line = LIFTED_GRANT_LINES[case]
    grants = [g for g in sample.data["grants"] if which(g)]
    assert len(grants) == (2 if case == "expired" else 1), sample.data["grants"]
    for grant in grants:
        assert line.format(**grant) in visible(render(sample))


def test_long_notice_lists_are_cut_and_say_so(worst_case: dict[str, Sample]) -> None:
    sample = worst_case["directive_notice:active_restricting"]
    shown = visible(render(sample))
    # Ten of each, then how many more: nothing disappears without a word.
    assert shown.count(") is *suspended*.") == 10 and shown.count(" was stopped.") == 10
    assert "…and 40 more" in shown and "…and 39 more" in shown


def test_progress_counts_every_failure_and_lists_the_first(worst_case: dict[str, Sample]) -> None:
    sample = worst_case["directive_progress:undelivered"]
    shown = visible(render(sample))
    # 500 people and 101 channels: 450 people and a channel failed, one person's notice is on the way.
    assert "⏳ *Notices:* 149 sent of 601, 451 failed, 1 on the way." in shown
    assert shown.count(f": `{WORST_CASE.delivery_error}`") == 20


def test_directive_form_matches_what_its_listener_reads(worst_case: dict[str, Sample]) -> None:
    sample = worst_case["directive_modal:form"]
    view = render(sample)
    assert view["callback_id"] == ids.DIRECTIVE_VIEW
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert all(element["action_id"] == block + ids.INPUT_SUFFIX for block, element in inputs.items())
    limits = {
        ids.DIRECTIVE_TITLE_BLOCK: MAX_TITLE,
        ids.DIRECTIVE_AUTHORITY_BLOCK: MAX_AUTHORITY,
        ids.DIRECTIVE_REFERENCE_BLOCK: MAX_REFERENCE,
        ids.DIRECTIVE_NOTICE_BLOCK: MAX_NOTICE,
    }
    assert {block: inputs[block]["max_length"] for block in limits} == limits
    # 101 models are more than a menu holds: the admin searches them (bot/slack/options.py answers).
    models = inputs[ids.DIRECTIVE_MODELS_BLOCK]
    assert len(sample.data["models"]) == 101
    assert (models["type"], models["action_id"]) == ("multi_external_select", ids.DIRECTIVE_MODELS_ACTION)
    assert "options" not in models and models["min_query_length"] == 0


def test_directive_form_lists_every_model_of_a_small_catalog(realistic: dict[str, Sample]) -> None:
    sample = realistic["directive_modal:form"]
    inputs = {b["block_id"]: b["element"] for b in render(sample)["blocks"] if b["type"] == "input"}
    models = inputs[ids.DIRECTIVE_MODELS_BLOCK]
    assert (models["type"], models["action_id"]) == ("multi_static_select", ids.DIRECTIVE_MODELS_ACTION)
    assert [o["value"] for o in models["options"]] == [m["slug"] for m in sample.data["models"]]


@pytest.mark.parametrize("variant", TEMPLATE_VARIANTS["directive_confirm"])
def test_confirm_view_carries_its_draft(realistic: dict[str, Sample], variant: str) -> None:
    sample = realistic[f"directive_confirm:{variant}"]
    view = render(sample)
    assert sample.data["directive"]["status"] == "draft"
    assert view["callback_id"] == ids.DIRECTIVE_CONFIRM_VIEW
    assert view["private_metadata"] == str(sample.data["directive"]["id"])


def test_directive_list_shows_the_latest_40_and_says_so(worst_case: dict[str, Sample]) -> None:
    shown = visible(render(worst_case["directive_list:directives"]))
    assert re.findall(r"\*D(\d+)\*", shown) == [str(n) for n in range(50, 10, -1)]
    assert "Showing the latest 40; `accessbot directive list` shows all." in shown


def test_licence_form_matches_what_its_listener_reads(worst_case: dict[str, Sample]) -> None:
    sample = worst_case["licence_modal:form"]
    view = render(sample)
    assert view["callback_id"] == ids.LICENCE_VIEW
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert all(element["action_id"] == block + ids.INPUT_SUFFIX for block, element in inputs.items())
    limits = {
        ids.LICENCE_NUMBER_BLOCK: MAX_LICENCE_NUMBER,
        ids.LICENCE_AUTHORITY_BLOCK: MAX_LICENCE_AUTHORITY,
        ids.LICENCE_CONDITIONS_BLOCK: MAX_CONDITIONS,
    }
    assert {block: inputs[block]["max_length"] for block in limits} == limits
    assert [o["value"] for o in inputs[ids.LICENCE_KIND_BLOCK]["options"]] == [k.value for k in LicenceKind]
    kinds = {
        ids.LICENCE_HOLDER_BLOCK: "users_select",
        ids.LICENCE_VALID_FROM_BLOCK: "datepicker",
        ids.LICENCE_VALID_UNTIL_BLOCK: "datepicker",
        ids.LICENCE_COUNTRIES_BLOCK: "plain_text_input",
    }
    assert {block: inputs[block]["type"] for block in kinds} == kinds
    # Only conditions may be left empty.
    optional = {b["block_id"] for b in view["blocks"] if b["type"] == "input" and b.get("optional")}
    assert optional == {ids.LICENCE_CONDITIONS_BLOCK}
    # 101 models are more than a menu holds: the officer searches them (bot/slack/licences.py answers).
    models = inputs[ids.LICENCE_MODELS_BLOCK]
    assert len(sample.data["models"]) == 101
    assert (models["type"], models["action_id"]) == ("multi_external_select", ids.LICENCE_MODELS_ACTION)
    assert "options" not in models and models["min_query_length"] == 0


def test_licence_form_lists_every_model_of_a_small_catalog(realistic: dict[str, Sample]) -> None:
    sample = realistic["licence_modal:form"]
    inputs = {b["block_id"]: b["element"] for b in render(sample)["blocks"] if b["type"] == "input"}
    models = inputs[ids.LICENCE_MODELS_BLOCK]
    assert (models["type"], models["action_id"]) == ("multi_static_select", ids.LICENCE_MODELS_ACTION)
    assert [o["value"] for o in models["options"]] == [m["slug"] for m in sample.data["models"]]


def test_licence_list_shows_the_newest_40_and_says_so(worst_case: dict[str, Sample]) -> None:
    payload = render(worst_case["licence_list:licences"])
    shown = visible(payload)
    assert re.findall(r"\*L(\d+)\*", shown) == [str(n) for n in range(50, 10, -1)]
    assert "Showing the newest 40 of 50; 10 more. `accessbot licence list` shows all." in shown
    assert len(payload["blocks"]) <= 50
