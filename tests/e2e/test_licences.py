"""Export licences end to end: a require-licence directive holds only the people no licence of theirs
covers; revoking, recording and lapsing a licence re-check at once; requests and approvals under such a
directive; the licence CSV; lapse warnings on the test clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.clock import FileClock
from tests.support.app import InProcessBot
from tests.support.cli import audit_events, listed, run_cli
from tests.support.flows import WHY, grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

BORIS, EVE, CARLA, ALICE, UMA = "U0BORIS01", "U0EVE0001", "U0CARLA01", "U0ALICE01", "U0UMA0001"
ORDER = "Mythos 5 may not be exported, re-exported or transferred to foreign nationals without a licence."
HEADER = "number,authority,kind,holder,models,countries,valid_from,valid_until,conditions"


def today(clock: FileClock) -> date:
    return clock().date()


def add_licence(
    server: InProcessBot,
    clock: FileClock,
    holder: str,
    countries: str,
    *,
    number: str = "EX-2026-0001",
    models: str = "mythos-5",
    days: int = 365,
) -> str:
    """Record a licence through the CLI, valid from today for `days` more days; the CLI's output."""
    start = today(clock)
    return run_cli(
        server, "licence", "add", "--number", number, "--authority", "BIS", "--kind", "deemed-export",
        "--holder", holder, "--models", models, "--countries", countries,
        "--valid-from", start.isoformat(), "--valid-until", (start + timedelta(days=days)).isoformat(),
        "--conditions", "No onward transfer",
    ).stdout  # fmt: skip


def issue_licence_directive(server: InProcessBot, tmp_path: Path) -> None:
    notice = tmp_path / "order.txt"
    notice.write_text(ORDER, encoding="utf-8")
    run_cli(
        server, "directive", "issue", "--title", "Licence required for frontier models",
        "--authority", "US Department of Commerce", "--reference", "EO-2026-118",
        "--notice-file", str(notice), "--models", "mythos-5", "--population", "non-us-persons",
        "--action", "require-licence",
    )  # fmt: skip


def grants_by_id(server: InProcessBot) -> dict[int, dict[str, object]]:
    return {int(str(g["id"])): g for g in listed(server, "grants")}


def dms_saying(emulator: SlackEmulator, user: str, text: str) -> list[dict[str, object]]:
    return [m for m in emulator.messages(user) if text in json.dumps(m, ensure_ascii=False)]


def test_a_licence_keeps_access_under_a_require_licence_directive_and_its_revocation_takes_it_away(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """Boris (German) has a licence naming Germany; Eve (French) has none. A require-licence directive
    for non-US persons holds Eve's grant only. Revoking Boris's licence suspends his grant at once, and
    he is told a licence is required; recording a new one gives it back."""
    boris = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    eve = grant_through_slack(slack, emulator, server, EVE, "mythos-5")
    assert "recorded L1" in add_licence(server, clock, BORIS, "DE")

    issue_licence_directive(server, tmp_path)
    grants = grants_by_id(server)
    assert grants[boris]["status"] == "active" and grants[boris]["licences"] == [1]
    assert grants[eve]["status"] == "suspended" and grants[eve]["held_by"] == ["directive:D1"]
    report = json.loads(run_cli(server, "directive", "report", "D1", "--json").stdout)
    held = {g["grant_id"]: g["held_by"] for p in report["people"] for g in p["grants"]}
    assert held == {eve: ["directive:D1"]}
    licence = next(x for x in listed(server, "licence") if x["id"] == 1)
    assert licence["grants"] == [boris] and licence["status"] == "active"

    out = run_cli(server, "licence", "revoke", "L1", "--reason", "BIS withdrew the licence").stdout
    assert "revoked L1" in out and "re-checked: 1 grants suspended, 0 reinstated" in out
    grants = grants_by_id(server)
    assert grants[boris]["status"] == "suspended" and grants[boris]["held_by"] == ["directive:D1"]
    # It depends on no licence now (held_by says why it is held); L1 no longer keeps any grant.
    assert grants[boris]["licences"] == []
    assert next(x for x in listed(server, "licence") if x["id"] == 1)["grants"] == []
    told = emulator.wait_for(lambda: dms_saying(emulator, BORIS, "Your access is suspended"))[-1]
    assert "requires an export licence for Mythos 5" in json.dumps(told, ensure_ascii=False)
    revoked = [e for e in audit_events(server) if e["action"] == "licence.revoked"]
    assert revoked and revoked[0]["detail"] == {"reason": "BIS withdrew the licence"}

    # A licence that falls short of a country covers nobody; one that names it gives the grant back.
    assert "re-checked" not in add_licence(server, clock, BORIS, "FR", number="EX-2026-0002")
    assert grants_by_id(server)[boris]["status"] == "suspended"
    out = add_licence(server, clock, BORIS, "DE;FR", number="EX-2026-0003")
    assert "recorded L3" in out and "re-checked: 0 grants suspended, 1 reinstated" in out
    grants = grants_by_id(server)
    assert grants[boris]["status"] == "active" and grants[boris]["licences"] == [3]

    def with_status(status: str) -> list[int]:
        found = run_cli(server, "licence", "list", "--status", status, "--json").stdout
        return [x["id"] for x in json.loads(found)]

    assert (with_status("revoked"), with_status("active"), with_status("expired")) == ([1], [2, 3], [])
    emulator.wait_for(lambda: dms_saying(emulator, BORIS, "Your access is back"))
    # The directive's report counts it as reinstated: the licence let Boris past the directive.
    report = json.loads(run_cli(server, "directive", "report", "D1", "--json").stdout)
    back = [g for p in report["people"] for g in p["grants"] if g["grant_id"] == boris]
    assert [g["reinstated"] for g in back] == [True]
    assert report["summary"]["grants_reinstated"] == 1
    assert grants[eve]["status"] == "suspended"

    # Lifting the directive gives Eve her access back; licences no longer matter, and no grant depends
    # on one any more.
    run_cli(server, "directive", "lift", "D1", "--reason", "Order withdrawn")
    grants = grants_by_id(server)
    assert grants[eve]["status"] == "active"
    assert grants[boris]["status"] == "active" and grants[boris]["licences"] == []


def test_requests_under_a_require_licence_directive_need_a_covering_licence(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """Without a licence Eve's request is denied citing the directive and what would let her in; once
    export compliance records one naming France, she can ask, approvers see the licence, and the grant
    records it."""
    issue_licence_directive(server, tmp_path)
    denied = slack.command(EVE, f"request mythos-5 {WHY}")
    assert "Directive D1" in denied.body and "export licence" in denied.body

    add_licence(server, clock, EVE, "FR")
    grant = grant_through_slack(slack, emulator, server, EVE, "mythos-5")
    assert grants_by_id(server)[grant]["licences"] == [1]
    approvals = [m for a in ("U0MARIA01", "U0OWEN001", "U0OLGA001") for m in emulator.messages(a)]
    shown = json.dumps(approvals, ensure_ascii=False)
    assert "📄" in shown and re.search(
        r"licence L1 \(BIS EX-2026-0001, deemed-export, until \d{4}-\d\d-\d\d\)", shown
    )
    created = [
        e for e in audit_events(server) if e["action"] == "grant.created" and e["subject_id"] == str(grant)
    ]
    assert created[0]["detail"]["licences"] == [1]  # type: ignore[index]


def test_a_licence_that_lapses_suspends_what_depends_on_it_after_warning_its_holder(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """A licence ending in 8 days: its holder and export compliance are warned now (30-day lead) and
    again at 7 days, once each however often the jobs run; the day after its last day it expires and
    the grant that depended on it is suspended."""
    add_licence(server, clock, BORIS, "DE", days=8)
    boris = grant_through_slack(slack, emulator, server, BORIS, "mythos-5", "30d")
    issue_licence_directive(server, tmp_path)
    assert grants_by_id(server)[boris]["status"] == "active"

    server.run_jobs()
    server.run_jobs()
    server.settle()  # every DM delivered: a busy machine paces them slower than a wait expects
    for user in (BORIS, CARLA):
        warned = emulator.wait_for(lambda user=user: dms_saying(emulator, user, "Licence about to lapse"))
        assert len(warned) == 1 and "in 8 days" in json.dumps(warned, ensure_ascii=False)
    # The holder cannot record a renewal: told to send it to export compliance, who are told how.
    (to_holder,) = dms_saying(emulator, BORIS, "Licence about to lapse")
    (to_officer,) = dms_saying(emulator, CARLA, "Licence about to lapse")
    holder_text = json.dumps(to_holder, ensure_ascii=False)
    assert "send them the renewed licence" in holder_text and "/licence" not in holder_text
    assert "`/licence` or `accessbot licence add`" in json.dumps(to_officer, ensure_ascii=False)
    assert not dms_saying(emulator, ALICE, "Licence about to lapse")

    clock.advance(days=1)
    server.run_jobs()
    server.settle()
    for user in (BORIS, CARLA):  # separate lanes: either may arrive first
        warned = emulator.wait_for(
            lambda user=user: (
                len(found := dms_saying(emulator, user, "Licence about to lapse")) == 2 and found
            )
        )
        assert "in 7 days" in json.dumps(warned[-1], ensure_ascii=False)

    clock.advance(days=7)
    server.run_jobs()  # the last day: still in effect
    assert grants_by_id(server)[boris]["status"] == "active"
    clock.advance(days=1)  # the scheduler runs some hours after midnight (the bot was down, say)
    server.run_jobs()
    assert grants_by_id(server)[boris]["status"] == "suspended"
    assert [x["status"] for x in listed(server, "licence")] == ["expired"]
    # History says access stopped when the licence did, at the start of the day after its last day.
    midnight = datetime.combine(today(clock), time(0, 0), UTC)
    suspended = [e for e in audit_events(server) if e["action"] == "grant.suspended"]
    assert [e["detail"].get("effective_at") for e in suspended] == [midnight.isoformat()]  # type: ignore[union-attr]

    def could_use_at(moment: datetime) -> list[str]:
        report = run_cli(
            server, "report", "access", "--model", "mythos-5", "--at", moment.isoformat(), "--json"
        )
        return re.findall(r"U0[A-Z0-9]+", report.stdout)

    assert BORIS in could_use_at(midnight - timedelta(hours=1))
    assert BORIS not in could_use_at(midnight + timedelta(hours=1))
    emulator.wait_for(lambda: dms_saying(emulator, BORIS, "Your access is suspended"))
    assert [e["subject_id"] for e in audit_events(server) if e["action"] == "licence.expired"] == ["1"]


def test_the_licence_file_is_imported_whole_or_not_at_all(
    server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """Every bad line is named with its line number and nothing is imported; a good file imports (holders
    by user ID or e-mail) and importing it again changes nothing; a changed line updates its licence."""
    start, end = today(clock).isoformat(), (today(clock) + timedelta(days=90)).isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"{HEADER}\n"
        f"EX-1,BIS,export,boris@example.com,mythos-5,DE,{start},{end},\n"
        f"EX-2,BIS,smuggling,{EVE},mythos-5,FR,{start},{end},\n"
        f"EX-3,BIS,export,{EVE},mythos-9,FR,{start},{end},\n"
        f"EX-4,BIS,export,{EVE},mythos-5,XX,{start},{end},\n"
        f"EX-5,BIS,export,{EVE},mythos-5,FR,{end},{start},\n"
        f"EX-6,BIS,export,nobody@example.com,mythos-5,FR,{start},{end},\n"
        f"EX-1,BIS,export,{EVE},mythos-5,FR,{start},{end},\n"
        # A number quoted across two lines, and an authority whose direction is reversed halfway.
        f'"EX\n7",BIS,export,{EVE},mythos-5,FR,{start},{end},\n'
        f"EX-8,BIS\u202eGRO,export,{EVE},mythos-5,FR,{start},{end},\n",
        encoding="utf-8",
    )
    failed = run_cli(server, "licence", "import", str(bad), check=False)
    assert failed.returncode == 2
    lines = failed.stderr.splitlines()
    assert any(":3: kind 'smuggling' is not one of" in line for line in lines)
    assert any(":4: model 'mythos-9' is not in the catalog" in line for line in lines)
    assert any(":5: countries 'XX' is not an ISO 3166-1 alpha-2" in line for line in lines)
    assert any(":6: valid_until" in line and "is before valid_from" in line for line in lines)
    assert any(":8: licence BIS EX-1 is also on line 2" in line for line in lines)
    assert any(":9: number holds a line break or tab" in line for line in lines)
    assert any(":11: authority holds a text-direction control (U+202E)" in line for line in lines)
    # Lines that read well are checked against the directory in the same run.
    assert any(":7: holder nobody@example.com is not in the directory" in line for line in lines)
    assert "nothing was imported" in lines[-1]
    assert listed(server, "licence") == []

    unknown_holder = tmp_path / "unknown.csv"
    unknown_holder.write_text(f"{HEADER}\nEX-6,BIS,export,nobody@example.com,mythos-5,FR,{start},{end},\n")
    failed = run_cli(server, "licence", "import", str(unknown_holder), check=False)
    assert failed.returncode == 2 and ":2: holder nobody@example.com is not in the directory" in failed.stderr
    assert listed(server, "licence") == []

    good = tmp_path / "licences.csv"
    good.write_text(
        f"{HEADER}\n"
        f"EX-1,BIS,export,boris@example.com,mythos-5;fable-5,DE,{start},{end},No onward transfer\n"
        f"EX-2,BIS,deemed-export,{EVE},mythos-5,FR;DE,{start},{end},\n",
        encoding="utf-8",
    )
    assert "2 added, 0 updated, 0 unchanged" in run_cli(server, "licence", "import", str(good)).stdout
    assert "0 added, 0 updated, 2 unchanged" in run_cli(server, "licence", "import", str(good)).stdout
    found = listed(server, "licence")
    assert [(x["number"], x["holder"], x["models"], x["countries"]) for x in found] == [
        ("EX-1", BORIS, ["fable-5", "mythos-5"], ["DE"]),
        ("EX-2", EVE, ["mythos-5"], ["DE", "FR"]),
    ]
    good.write_text(
        f"{HEADER}\nEX-2,BIS,deemed-export,{EVE},mythos-5,FR,{start},{end},Renewed\n", encoding="utf-8"
    )
    assert "0 added, 1 updated, 0 unchanged" in run_cli(server, "licence", "import", str(good)).stdout
    eve = next(x for x in listed(server, "licence") if x["number"] == "EX-2")
    assert eve["countries"] == ["FR"] and eve["conditions"] == "Renewed"
    # Ids are not assumed: PostgreSQL's sequences keep counting past the refused imports' rows.
    shown = json.loads(run_cli(server, "licence", "show", str(eve["label"]), "--json").stdout)
    assert shown["label"] == f"L{eve['id']}" and shown["kind"] == "deemed-export"
    mine = json.loads(run_cli(server, "licence", "list", "--holder", "eve@example.com", "--json").stdout)
    assert [x["id"] for x in mine] == [eve["id"]]


def test_unknown_citizenship_is_never_covered_by_a_licence(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """Uma's citizenship is not on file: a licence naming every country still does not lift a
    require-licence directive for her (the countries her access is an export to cannot be known)."""
    add_licence(server, clock, UMA, "US;DE;FR;GB;IN;CN")
    issue_licence_directive(server, tmp_path)
    denied = slack.command(UMA, f"request mythos-5 {WHY}")
    assert "Directive D1" in denied.body
    assert listed(server, "requests")[-1]["status"] == "denied"
