"""`/licence` end to end, over HTTP against the Slack emulator: export compliance records a licence through
the form and the re-check gives back what a require-licence directive held; field errors are shown on
their field and record nothing; people without the export-compliance or access-admin role are refused
(and audited), also when the role goes while the form is open; `/licence list` and `/licence revoke`."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.licences import utc_day
from bot.emulator.view_state import build_state
from bot.slack import ids
from bot.slack.command_text import CommandError, parse_licence
from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES
from tests.support.cli import audit_events, listed, run_cli
from tests.support.flows import grant_through_slack
from tests.support.seed import DIRECTORY
from tests.support.slack import SlackDriver, SlackEmulator

BORIS, EVE, CARLA, ADMIN, IAN = "U0BORIS01", "U0EVE0001", "U0CARLA01", "U0ADMIN01", "U0IAN0001"
REFUSED = "Only people with the export-compliance or access-admin role can"
ORDER = "Mythos 5 may be used by foreign nationals only under an export licence."
HOSTILE = "<!channel> Export & Co <https://evil.example|BIS>"


# -- helpers --------------------------------------------------------------------------------------------


def licences(server: InProcessBot) -> list[dict[str, Any]]:
    """What `accessbot licence list --json` prints."""
    return list(json.loads(run_cli(server, "licence", "list", "--json").stdout))


def open_form(slack: SlackDriver, emulator: SlackEmulator, user: str = CARLA) -> dict[str, Any]:
    reply = slack.command(user, "", command=ids.LICENCE_COMMAND)
    assert reply.status == 200, reply.body
    return emulator.wait_for(lambda: [v for v in emulator.views_opened(user) if not v.get("closed")])[-1]


def is_open(emulator: SlackEmulator, view_id: str) -> bool:
    view = emulator.view(view_id)
    return view is not None and not view["closed"]


def today(server: InProcessBot) -> str:
    return utc_day(server.clock()).isoformat()


def in_days(server: InProcessBot, days: int) -> str:
    return (utc_day(server.clock()) + timedelta(days=days)).isoformat()


def values(server: InProcessBot, **overrides: Any) -> dict[str, Any]:
    """A complete, valid licence for Boris (citizen of and working in Germany) on Mythos 5."""
    filled: dict[str, Any] = {
        ids.LICENCE_NUMBER_BLOCK: "D1234567",
        ids.LICENCE_AUTHORITY_BLOCK: "US Department of Commerce, BIS",
        ids.LICENCE_KIND_BLOCK: "deemed-export",
        ids.LICENCE_HOLDER_BLOCK: BORIS,
        ids.LICENCE_MODELS_BLOCK: ["mythos-5"],
        ids.LICENCE_COUNTRIES_BLOCK: "DE",
        ids.LICENCE_VALID_FROM_BLOCK: today(server),
        ids.LICENCE_VALID_UNTIL_BLOCK: in_days(server, 365),
        ids.LICENCE_CONDITIONS_BLOCK: "No re-transfer of model outputs outside the research team.",
    }
    filled.update(overrides)
    return filled


def add_by_cli(
    server: InProcessBot, number: str, holder: str, *, authority: str = "BIS", **options: str
) -> None:
    fields = {
        "kind": "export",
        "models": "mythos-5",
        "countries": "DE",
        "valid-from": today(server),
        "valid-until": in_days(server, 90),
        **options,
    }
    arguments = [f"--{key}={value}" for key, value in fields.items()]
    run_cli(
        server,
        "licence",
        "add",
        f"--number={number}",
        f"--authority={authority}",
        f"--holder={holder}",
        *arguments,
    )


def grant_statuses(server: InProcessBot) -> dict[int, str]:
    return {int(str(g["id"])): str(g["status"]) for g in listed(server, "grants")}


def require_licence_directive(server: InProcessBot, tmp_path: Path) -> None:
    notice = tmp_path / "order.txt"
    notice.write_text(ORDER, encoding="utf-8")
    run_cli(
        server, "directive", "issue", "--title", "Mythos 5 under licence only",
        "--authority", "US Department of Commerce", "--reference", "EO-2026-118",
        "--notice-file", str(notice), "--models", "mythos-5", "--population", "non-us-persons",
        "--action", "require-licence",
    )  # fmt: skip


def dms_saying(emulator: SlackEmulator, user: str, text: str) -> list[dict[str, Any]]:
    return [m for m in emulator.messages(user) if text in json.dumps(m, ensure_ascii=False)]


def shown_text(reply: Any) -> str:
    """Everything Slack reads as mrkdwn in an ephemeral reply: the fallback text and the blocks."""
    assert reply.json is not None, reply.body
    return json.dumps(
        {"text": reply.json.get("text"), "blocks": reply.json.get("blocks")}, ensure_ascii=False
    )


def refused_attempts(server: InProcessBot) -> list[dict[str, object]]:
    return [e for e in audit_events(server) if e["action"] == "licence.refused"]


# -- recording through the form ------------------------------------------------------------------------


def test_an_officer_records_a_licence_and_the_grant_it_covers_comes_back(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    require_licence_directive(server, tmp_path)
    emulator.wait_for(lambda: grant_statuses(server)[boris_grant] == "suspended")

    form = open_form(slack, emulator)
    # The form offers the four kinds and the catalog's models, and asks for the holder and the dates.
    elements = {b["block_id"]: b["element"] for b in form["blocks"] if b["type"] == "input"}
    assert [o["value"] for o in elements[ids.LICENCE_KIND_BLOCK]["options"]] == [
        "export",
        "re-export",
        "in-country-transfer",
        "deemed-export",
    ]
    assert "mythos-5" in [o["value"] for o in elements[ids.LICENCE_MODELS_BLOCK]["options"]]
    assert elements[ids.LICENCE_HOLDER_BLOCK]["type"] == "users_select"
    assert elements[ids.LICENCE_VALID_FROM_BLOCK]["type"] == "datepicker"
    assert elements[ids.LICENCE_VALID_UNTIL_BLOCK]["type"] == "datepicker"

    done = slack.submit_view(CARLA, form["id"], values(server))
    assert done.status == 200 and not (done.json or {}).get("errors"), done.body
    assert not is_open(emulator, form["id"])  # the form closed
    server.settle()  # a busy machine may finish recording after the ack closed the form

    [licence] = licences(server)
    assert licence["label"] == "L1" and licence["number"] == "D1234567"
    assert licence["authority"] == "US Department of Commerce, BIS" and licence["kind"] == "deemed-export"
    assert licence["holder"] == BORIS and licence["models"] == ["mythos-5"] and licence["countries"] == ["DE"]
    assert licence["valid_from"] == today(server) and licence["valid_until"] == in_days(server, 365)
    assert licence["conditions"].startswith("No re-transfer") and licence["recorded_by"] == CARLA
    # The re-check in the same transaction gave Boris his grant back, and the officer is told so.
    assert grant_statuses(server)[boris_grant] == "active"
    told = emulator.wait_for(lambda: dms_saying(emulator, CARLA, "Recorded L1"))[-1]
    body = json.dumps(told, ensure_ascii=False)
    assert "US Department of Commerce, BIS D1234567, deemed-export" in body and f"<@{BORIS}>" in body
    assert "Re-check: 1 grant reinstated" in body
    assert [e["actor"] for e in audit_events(server) if e["action"] == "licence.recorded"] == [CARLA]
    assert not emulator.violations

    # Revoking it suspends the grant again, and says so.
    revoked = slack.command(CARLA, "revoke L1 BIS withdrew the licence", command=ids.LICENCE_COMMAND)
    assert "Revoked L1. Re-check: 1 grant suspended" in shown_text(revoked)
    assert grant_statuses(server)[boris_grant] == "suspended"
    [licence] = licences(server)
    assert licence["status"] == "revoked" and licence["end_reason"] == "BIS withdrew the licence"
    assert licence["ended_by"] == CARLA


def test_an_access_admin_may_record_a_licence_too(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    form = open_form(slack, emulator, ADMIN)
    done = slack.submit_view(ADMIN, form["id"], values(server, **{ids.LICENCE_CONDITIONS_BLOCK: None}))
    assert not (done.json or {}).get("errors"), done.body
    server.settle()  # a busy machine may finish recording after the ack closed the form
    [licence] = licences(server)
    assert licence["recorded_by"] == ADMIN and licence["conditions"] == ""
    told = emulator.wait_for(lambda: dms_saying(emulator, ADMIN, "Recorded L1"))[-1]
    assert "No grant or pending request changed." in json.dumps(told)


@pytest.mark.parametrize(
    ("overrides", "block", "says"),
    [
        ({ids.LICENCE_COUNTRIES_BLOCK: "UK"}, ids.LICENCE_COUNTRIES_BLOCK, "did you mean GB?"),
        ({ids.LICENCE_COUNTRIES_BLOCK: "de"}, ids.LICENCE_COUNTRIES_BLOCK, "must be upper case (DE)"),
        ({ids.LICENCE_COUNTRIES_BLOCK: ""}, ids.LICENCE_COUNTRIES_BLOCK, "Countries is empty"),
        ({ids.LICENCE_MODELS_BLOCK: []}, ids.LICENCE_MODELS_BLOCK, "Models is empty"),
        ({ids.LICENCE_NUMBER_BLOCK: "   "}, ids.LICENCE_NUMBER_BLOCK, "Number is empty"),
        ({ids.LICENCE_KIND_BLOCK: None}, ids.LICENCE_KIND_BLOCK, "Kind is empty"),
        ({ids.LICENCE_HOLDER_BLOCK: None}, ids.LICENCE_HOLDER_BLOCK, "Holder is empty"),
        ({ids.LICENCE_VALID_FROM_BLOCK: None}, ids.LICENCE_VALID_FROM_BLOCK, "Valid from is empty"),
        (
            {ids.LICENCE_VALID_UNTIL_BLOCK: "2020-01-01"},
            ids.LICENCE_VALID_UNTIL_BLOCK,
            "is before valid from",
        ),
        # Someone Slack knows whom the directory does not: found by the service, shown on the same field.
        ({ids.LICENCE_HOLDER_BLOCK: "U0STRANGER"}, ids.LICENCE_HOLDER_BLOCK, "not in the directory"),
    ],
)
def test_field_errors_are_shown_on_their_field_and_nothing_is_recorded(
    slack: SlackDriver,
    emulator: SlackEmulator,
    server: InProcessBot,
    overrides: dict[str, Any],
    block: str,
    says: str,
) -> None:
    form = open_form(slack, emulator)
    refused = slack.submit_view(CARLA, form["id"], values(server, **overrides))
    assert refused.json and refused.json["response_action"] == "errors", refused.body
    assert set(refused.json["errors"]) == {block}
    assert says in refused.json["errors"][block]
    assert is_open(emulator, form["id"])  # still open, with what the officer typed, to correct
    assert licences(server) == []
    # Corrected, the same form records the licence.
    done = slack.submit_view(CARLA, form["id"], values(server))
    assert not (done.json or {}).get("errors"), done.body
    server.settle()  # a busy machine may finish recording after the ack closed the form
    assert [licence["number"] for licence in licences(server)] == ["D1234567"]


def test_a_licence_already_on_record_is_refused_on_the_number(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    add_by_cli(server, "D1234567", BORIS, authority="US Department of Commerce, BIS")
    form = open_form(slack, emulator)
    refused = slack.submit_view(CARLA, form["id"], values(server))
    assert refused.json and refused.json["response_action"] == "errors"
    assert "is already on record as L1" in refused.json["errors"][ids.LICENCE_NUMBER_BLOCK]
    assert len(licences(server)) == 1
    # The audit trail says where the one on record was typed.
    recorded = [e["detail"] for e in audit_events(server) if e["action"] == "licence.recorded"]
    assert recorded == [{"source": "command line"}]


def test_nobody_records_a_licence_they_hold_themselves(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # Carla (export compliance) names herself as the holder: refused on the holder, nothing recorded.
    form = open_form(slack, emulator)
    refused = slack.submit_view(CARLA, form["id"], values(server, **{ids.LICENCE_HOLDER_BLOCK: CARLA}))
    assert refused.json and refused.json["response_action"] == "errors", refused.body
    assert set(refused.json["errors"]) == {ids.LICENCE_HOLDER_BLOCK}
    assert "You hold this licence yourself" in refused.json["errors"][ids.LICENCE_HOLDER_BLOCK]
    assert licences(server) == []
    # An access admin may record it for her.
    form = open_form(slack, emulator, ADMIN)
    done = slack.submit_view(ADMIN, form["id"], values(server, **{ids.LICENCE_HOLDER_BLOCK: CARLA}))
    assert not (done.json or {}).get("errors"), done.body
    server.settle()
    assert [(licence["number"], licence["holder"]) for licence in licences(server)] == [("D1234567", CARLA)]
    recorded = [e["detail"] for e in audit_events(server) if e["action"] == "licence.recorded"]
    assert recorded == [{"source": "form"}]


# -- who may -------------------------------------------------------------------------------------------


def test_people_without_either_role_are_refused_and_audited(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    add_by_cli(server, "D1", BORIS)
    # Text the command cannot read too: probing it teaches nothing but the refusal.
    for text in ("", "list", f"list <@{BORIS}|boris>", "revoke L1 I do not like it", "revoke L1"):
        reply = slack.command(EVE, text, command=ids.LICENCE_COMMAND)
        assert f"{REFUSED} " in shown_text(reply), text
    assert emulator.views_opened(EVE) == []
    assert licences(server)[0]["status"] == "active"
    # A form submitted by someone it was never opened for changes nothing either.
    form = open_form(slack, emulator)
    forged = slack.submit_view(EVE, form["id"], values(server, **{ids.LICENCE_NUMBER_BLOCK: "D2"}))
    assert forged.json and REFUSED in forged.json["errors"][ids.LICENCE_NUMBER_BLOCK]
    # The role comes first: a forged form with a bad field is refused (and audited) for the role.
    forged = slack.submit_view(EVE, form["id"], values(server, **{ids.LICENCE_COUNTRIES_BLOCK: "XX"}))
    assert forged.json and REFUSED in json.dumps(forged.json["errors"])
    assert len(licences(server)) == 1
    refused = refused_attempts(server)
    assert len(refused) == 7 and {e["actor"] for e in refused} == {EVE}
    # Help says what the command is and who may use it, to anyone.
    help_reply = slack.command(EVE, "help", command=ids.LICENCE_COMMAND)
    assert "/licence revoke L3 &lt;reason&gt;" in shown_text(help_reply)


def test_the_role_is_checked_again_when_the_form_is_submitted(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    form = open_form(slack, emulator)
    # While the form is open, HR's directory import takes Carla's export-compliance role away.
    with DIRECTORY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    changed = tmp_path / "directory.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "roles": ""} if row["slack_user_id"] == CARLA else row for row in rows)
    run_cli(server, "directory", "import", str(changed))

    refused = slack.submit_view(CARLA, form["id"], values(server))
    assert refused.json and REFUSED in refused.json["errors"][ids.LICENCE_NUMBER_BLOCK]
    assert licences(server) == []
    assert [e["actor"] for e in refused_attempts(server)] == [CARLA]


# -- list, revoke, help ----------------------------------------------------------------------------------


def test_list_shows_every_licence_or_one_persons_with_stored_text_escaped(
    slack: SlackDriver, server: InProcessBot
) -> None:
    add_by_cli(server, "EX<1>&2", BORIS, authority=HOSTILE, kind="deemed-export")
    add_by_cli(server, "EX-2", EVE, countries="FR", models="mythos-5;lumen-3")
    add_by_cli(server, "EX-3", BORIS, **{"valid-from": in_days(server, 30)})
    add_by_cli(server, "EX-4", BORIS)
    run_cli(server, "licence", "revoke", "L4", "--reason", "Recorded in error")

    everyone = shown_text(slack.command(CARLA, "list", command=ids.LICENCE_COMMAND))
    assert "4 export licence(s)" in everyone
    # Newest first, each with its authority and number, kind, holder, models, countries, dates and status.
    assert everyone.index("*L4*") < everyone.index("*L3*") < everyone.index("*L2*") < everyone.index("*L1*")
    assert "&lt;!channel&gt; Export &amp; Co &lt;https://evil.example|BIS&gt; EX&lt;1&gt;&amp;2" in everyone
    assert "<!channel>" not in everyone and "<https://evil" not in everyone
    assert f"*L2* BIS EX-2 · export · <@{EVE}>" in everyone
    assert "Models: lumen-3, mythos-5 · Countries: FR" in everyone
    assert f"Valid {today(server)} to {in_days(server, 90)} · active" in everyone
    assert f"Valid {in_days(server, 30)} to {in_days(server, 90)} · active, not in effect yet" in everyone
    assert "· revoked" in everyone

    # `@boris` arrives as Slack escapes a mention: only his licences.
    boris = shown_text(slack.command(CARLA, f"list <@{BORIS}|boris>", command=ids.LICENCE_COMMAND))
    assert "3 export licence(s) held by" in boris
    assert "*L1*" in boris and "*L3*" in boris and "*L4*" in boris
    assert "*L2*" not in boris and f"<@{EVE}>" not in boris
    nobody = shown_text(slack.command(ADMIN, f"list <@{IAN}|ian>", command=ids.LICENCE_COMMAND))
    assert "No licences on record held by" in nobody


def test_a_long_list_is_capped_and_points_to_the_command_line(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    path = tmp_path / "licences.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["number", "authority", "kind", "holder", "models", "countries", "valid_from", "valid_until"]
        )
        for n in range(45):
            writer.writerow(
                [f"EX-{n:03d}", "BIS", "export", BORIS, "mythos-5", "DE", today(server), in_days(server, 365)]
            )
    run_cli(server, "licence", "import", str(path))
    reply = slack.command(CARLA, "list", command=ids.LICENCE_COMMAND)
    assert reply.json is not None and len(reply.json["blocks"]) <= 50
    text = shown_text(reply)
    assert "*L45*" in text and "*L6*" in text and "*L5*" not in text
    assert "Showing the newest 40 of 45; 5 more. `accessbot licence list` shows all." in text
    assert not emulator.violations


def test_revoke_needs_a_licence_and_a_reason(slack: SlackDriver, server: InProcessBot) -> None:
    add_by_cli(server, "D1", BORIS)
    usage = "/licence revoke L3 &lt;reason&gt;"
    no_reason = shown_text(slack.command(CARLA, "revoke L1", command=ids.LICENCE_COMMAND))
    assert "Say why L1 is revoked" in no_reason and usage in no_reason
    no_id = shown_text(slack.command(CARLA, "revoke", command=ids.LICENCE_COMMAND))
    assert "Which licence?" in no_id and usage in no_id
    wrong_kind = shown_text(slack.command(CARLA, "revoke D1 because", command=ids.LICENCE_COMMAND))
    assert "D1 is a directive ID; this needs a licence ID like L12" in wrong_kind
    unknown = shown_text(slack.command(CARLA, "revoke L9 because", command=ids.LICENCE_COMMAND))
    assert "There is no licence L9" in unknown
    assert licences(server)[0]["status"] == "active"

    done = shown_text(slack.command(CARLA, "revoke l1 Superseded by D2", command=ids.LICENCE_COMMAND))
    assert "Revoked L1. No grant or pending request changed." in done
    again = shown_text(slack.command(CARLA, "revoke L1 Superseded by D2", command=ids.LICENCE_COMMAND))
    assert "L1 is already revoked" in again
    [licence] = licences(server)
    assert licence["status"] == "revoked" and licence["end_reason"] == "Superseded by D2"
    assert [e["actor"] for e in audit_events(server) if e["action"] == "licence.revoked"] == [CARLA]


def test_help_and_unknown_subcommands(slack: SlackDriver) -> None:
    shown = shown_text(slack.command(CARLA, "help", command=ids.LICENCE_COMMAND))
    assert "`/licence list [@person]`" in shown and "accessbot licence add" in shown
    typo = shown_text(slack.command(CARLA, "lsit", command=ids.LICENCE_COMMAND))
    assert "I don't know `/licence lsit`. Did you mean `/licence list`?" in typo
    assert "`/licence list [@person]`" in typo
    hostile = shown_text(slack.command(CARLA, "<!channel>", command=ids.LICENCE_COMMAND))
    assert "<!channel>" not in hostile and "&lt;!channel&gt;" in hostile
    # Someone with the role who leaves out the reason is told how to write it.
    unreasoned = shown_text(slack.command(CARLA, "revoke L1", command=ids.LICENCE_COMMAND))
    assert "Say why L1 is revoked" in unreasoned and REFUSED not in unreasoned


@pytest.mark.parametrize(
    ("text", "action", "target", "holder"),
    [
        ("", "form", None, None),
        ("add", "form", None, None),
        ("list", "list", None, None),
        (f"list <@{BORIS}|boris>", "list", None, BORIS),
        (f"list {BORIS}", "list", None, BORIS),
        ("revoke L12 gone", "revoke", 12, None),
        ("revoke #L3 gone", "revoke", 3, None),
        ("revoke 3 gone", "revoke", 3, None),
        ("frobnicate", "help", None, None),
    ],
)
def test_parse_licence(text: str, action: str, target: int | None, holder: str | None) -> None:
    parsed = parse_licence(text)
    assert (parsed.action, parsed.target_id, parsed.holder_id) == (action, target, holder)


@pytest.mark.parametrize("text", ["revoke", "revoke L3", "revoke L3   ", "revoke G3 why", "list @nobody"])
def test_parse_licence_refuses(text: str) -> None:
    with pytest.raises(CommandError):
        parse_licence(text)


# -- a catalog larger than a menu ----------------------------------------------------------------------


@pytest.fixture
def big_server(start_server: Callable[..., InProcessBot], tmp_path: Path) -> InProcessBot:
    directory = tmp_path / "big-workflows"
    shutil.copytree(FIXTURES / "workflows", directory)
    extra = "".join(
        f"  - slug: zephyr-{n:03d}\n    name: Zephyr {n:03d}\n    provider: Lumen Systems\n"
        "    default_duration: 7d\n    max_duration: 30d\n    chain: standard\n"
        for n in range(120)
    )
    models = directory / "models.yaml"
    models.write_text(models.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return start_server(ACCESSBOT_WORKFLOWS_DIR=str(directory))


def test_past_100_models_the_form_searches_them(big_server: InProcessBot, emulator: SlackEmulator) -> None:
    slack = big_server.driver(emulator)
    form = open_form(slack, emulator)
    menu = next(b["element"] for b in form["blocks"] if b.get("block_id") == ids.LICENCE_MODELS_BLOCK)
    assert menu["type"] == "multi_external_select" and "options" not in menu
    found = slack.options(
        CARLA, ids.LICENCE_MODELS_ACTION, "zephyr 119", view=form, block_id=ids.LICENCE_MODELS_BLOCK
    )
    assert found.json is not None
    assert found.json["options"][0] == {
        "text": {"type": "plain_text", "text": "Zephyr 119 (zephyr-119)", "emoji": True},
        "value": "zephyr-119",
    }
    done = slack.submit_view(
        CARLA, form["id"], values(big_server, **{ids.LICENCE_MODELS_BLOCK: ["zephyr-119", "mythos-5"]})
    )
    assert not (done.json or {}).get("errors"), done.body
    big_server.settle()  # a busy machine may finish recording after the ack closed the form
    assert licences(big_server)[0]["models"] == ["mythos-5", "zephyr-119"]
    # The submitted state is Slack's for an external multi-select: options labelled with their values.
    state = build_state(copy.deepcopy(form), {ids.LICENCE_MODELS_BLOCK: ["zephyr-119"]})
    assert state["values"][ids.LICENCE_MODELS_BLOCK][ids.LICENCE_MODELS_ACTION] == {
        "type": "multi_external_select",
        "selected_options": [
            {"text": {"type": "plain_text", "text": "zephyr-119", "emoji": True}, "value": "zephyr-119"}
        ],
    }
