"""Point-in-time access reports end to end: grants approved in Slack, a directive suspending one of them,
then `/access report` over HTTP (access admins only) and `accessbot report access` as scripts read it."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from bot.clock import FileClock
from tests.support.app import InProcessBot
from tests.support.cli import listed, run_cli
from tests.support.flows import grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, BORIS, ADMIN = "U0ALICE01", "U0BORIS01", "U0ADMIN01"


def typed(moment: datetime) -> str:
    """An instant as an admin types it: ISO 8601 in UTC with `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shown(slack: SlackDriver, user: str, text: str) -> str:
    """The reply to `/access TEXT` as the person reads it: its JSON with characters as they are."""
    reply = slack.command(user, text)
    assert reply.status == 200 and reply.json is not None, reply.body
    return json.dumps(reply.json, ensure_ascii=False)


def test_admins_see_who_could_use_a_model_then_and_scripts_get_the_basis(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, clock: FileClock, tmp_path
) -> None:
    alice = grant_through_slack(slack, emulator, server, ALICE, "mythos-5")
    boris = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    before = clock.advance(hours=1)
    notice = tmp_path / "notice.txt"
    notice.write_text("Access to Mythos 5 is suspended for non-US persons.", encoding="utf-8")
    clock.advance(hours=1)
    run_cli(
        server, "directive", "issue", "--title", "Frontier restriction", "--authority", "BIS",
        "--reference", "EO-2026-117", "--models", "mythos-5", "--population", "non-us-persons",
        "--action", "suspend", "--notice-file", str(notice),
    )  # fmt: skip
    assert {g["id"]: g["status"] for g in listed(server, "grants")} == {alice: "active", boris: "suspended"}
    clock.advance(hours=1)

    # Then: both; now: only Alice. Each with the grant and the approvers who decided.
    then = shown(slack, ADMIN, f"report mythos-5 {typed(before)}")
    assert "*2* people could use Mythos 5" in then, then
    assert f"<@{ALICE}> · G{alice}" in then and f"<@{BORIS}> · G{boris}" in then
    assert "approved by <@U0MARIA01>" in then
    assert f"accessbot report access --model mythos-5 --at {typed(before)}" in then
    now = shown(slack, ADMIN, "report mythos-5")
    assert "*1* person could use Mythos 5" in now and f"<@{BORIS}>" not in now, now

    # Only access admins may ask, and a refused attempt is on record.
    refused = shown(slack, ALICE, f"report mythos-5 {typed(before)}")
    assert "Only people with the access-admin role can see who could use a model" in refused
    assert f"<@{BORIS}>" not in refused
    events = run_cli(server, "audit", "export").stdout.splitlines()
    assert any(json.loads(e)["action"] == "report.access_refused" for e in events)
    for text, expected in (
        ("report", "Usage: `/access report &lt;model&gt; [time"),
        ("report mythos-5 yesterday", "'yesterday' is not an ISO 8601 time"),
        ("report mythos-5 2026-11-27T09:00", "needs a time zone"),
        ("report nonesuch-9 2026-11-27T09:00Z", "There is no model"),
        (f"report mythos-5 {typed(clock() + timedelta(days=1))}", "is in the future"),
    ):
        assert expected in shown(slack, ADMIN, text), text

    # The CLI gives everyone, with every decision and its time.
    records = json.loads(
        run_cli(server, "report", "access", "--model", "mythos-5", "--at", typed(before), "--json").stdout
    )
    assert [(r["slack_user_id"], r["grant_id"]) for r in records] == [(ALICE, alice), (BORIS, boris)]
    assert {"slack_user_id", "model", "grant_id", "approvals", "licences"} <= records[0].keys()
    steps = [(a["step"], a["verdict"]) for a in records[1]["approvals"]]
    assert steps == [("Manager", "approve"), ("Model owner", "approve"), ("Export compliance", "approve")]
    assert records[1]["licences"] == []
    rows = list(
        csv.reader(
            io.StringIO(
                run_cli(
                    server, "report", "access", "--model", "mythos-5", "--at", typed(before), "--csv"
                ).stdout
            )
        )
    )
    assert rows[0][:3] == ["slack_user_id", "name", "model"] and len(rows) == 3
    assert "Manager: U0MARIA01 (Maria Garcia) approve" in rows[2][8]

    # Boris's window: use from his grant until the directive suspended it.
    periods = json.loads(
        run_cli(
            server,
            "report",
            "access",
            "--person",
            "boris@example.com",
            "--from",
            typed(before - timedelta(days=1)),
            "--json",
        ).stdout
    )
    assert [(p["model"], p["grant_id"], p["ended_by"]) for p in periods] == [("mythos-5", boris, "suspended")]
    assert datetime.fromisoformat(periods[0]["end"]) > before


def test_bad_report_arguments_get_one_line_and_exit_2(server: InProcessBot) -> None:
    for args, expected in (
        (("--model", "mythos-5"), "--model and --at go together"),
        (
            ("--model", "mythos-5", "--at", "2026-13-01T00:00Z"),
            "--at '2026-13-01T00:00Z' is not an ISO 8601 time",
        ),
        (("--person", "U0ALICE01", "--at", "2026-11-01T00:00Z"), "give either --model and --at"),
        (("--person", "U0ALICE01"), "--person and --from go together"),
        (("--model", "mythos-5", "--at", "9000-01-01T00:00Z"), "is in the future"),
        (("--person", "nobody@example.com", "--from", "2026-01-01T00:00Z"), "not in the directory"),
        (("--model", "m", "--at", "2026-01-01T00:00Z", "--json", "--csv"), "not allowed with argument"),
        # Bytes the terminal could not decode (PEP 383 surrogates): refused before anything reads them.
        (("--model", "\udcff", "--at", "2026-01-01T00:00Z"), "argument 4 is not valid text"),
        (("--person", "\udcff\udcfe", "--from", "2026-01-01T00:00Z"), "argument 4 is not valid text"),
    ):
        result = run_cli(server, "report", "access", *args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr and len(result.stderr.splitlines()) == 1, (args, result.stderr)
        assert result.stdout == ""
