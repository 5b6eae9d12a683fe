"""Keeping the licence record right over time: files that are not CSV, renewals and their warnings,
holders who leave or change, numbers whatever their case, dates as documented, licences recorded after
their last day, and a scheduled require-licence directive judged on the day it takes effect."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.clock import FileClock
from tests.e2e.test_licences import (
    BORIS,
    CARLA,
    EVE,
    HEADER,
    ORDER,
    dms_saying,
    grants_by_id,
    issue_licence_directive,
    today,
)
from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES
from tests.support.cli import audit_events, listed, run_cli
from tests.support.flows import grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

WARNING = "Licence about to lapse"


def licence_row(clock: FileClock, number: str, holder: str, countries: str, days: int, **cells: str) -> str:
    start = today(clock)
    row = {
        "number": number, "authority": "BIS", "kind": "deemed-export", "holder": holder,
        "models": "mythos-5", "countries": countries, "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(days=days)).isoformat(), "conditions": "",
    } | cells  # fmt: skip
    return ",".join(row[column] for column in HEADER.split(","))


def import_file(server: InProcessBot, path: Path, *rows: str, check: bool = True) -> tuple[int, str, str]:
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    done = run_cli(server, "licence", "import", str(path), check=check)
    return done.returncode, done.stdout, done.stderr


def test_a_quote_left_open_refuses_the_file_instead_of_swallowing_the_lines_after_it(
    server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """An unclosed quote in the conditions of line 2 would make one licence of the rest of the file:
    the file is refused, naming line 2, and nothing is recorded. The directory import reads CSV the
    same way."""
    start, end = today(clock).isoformat(), (today(clock) + timedelta(days=90)).isoformat()
    path = tmp_path / "licences.csv"
    code, _, stderr = import_file(
        server, path,
        f'EX-30,BIS,export,{EVE},mythos-5,FR,{start},{end},"oops',
        f"EX-31,BIS,export,{EVE},mythos-5,FR,{start},{end},x",
        f"EX-32,BIS,export,nobody@example.com,nope,XX,{start},{end},y",
        check=False,
    )  # fmt: skip
    assert code == 2
    assert ":2: a quoted cell that starts on this line is never closed" in stderr
    assert listed(server, "licence") == []

    directory = tmp_path / "directory.csv"
    lines = (FIXTURES / "directory.csv").read_text(encoding="utf-8").splitlines()
    directory.write_text("\n".join([lines[0], lines[1] + '"', *lines[2:]]) + "\n", encoding="utf-8")
    refused = run_cli(server, "directory", "import", str(directory), check=False)
    assert refused.returncode == 2 and ":2: " in refused.stderr and "never closed" in refused.stderr

    # A quoted line break inside a cell is fine, and a bad record is named by the line it starts on.
    code, _, stderr = import_file(
        server, path,
        f'EX-40,BIS,export,{EVE},mythos-5,FR,{start},{end},"No onward transfer\nand no re-export"',
        f'EX-41,BIS,export,{EVE},mythos-9,FR,{start},{end},"two\nlines"',
        check=False,
    )  # fmt: skip
    assert code == 2 and ":4: model 'mythos-9'" in stderr, stderr


def test_a_renewed_last_day_is_warned_about_again(
    server: InProcessBot, emulator: SlackEmulator, tmp_path: Path, clock: FileClock
) -> None:
    """A licence ending in 5 days is warned about once. Re-imported with a last day a year on, it is
    warned about again 30 and 7 days before that day."""
    path = tmp_path / "licences.csv"
    import_file(server, path, licence_row(clock, "X-1", BORIS, "DE", 5))
    server.run_jobs()
    emulator.wait_for(lambda: dms_saying(emulator, BORIS, WARNING))
    renewed = licence_row(clock, "X-1", BORIS, "DE", 365)
    assert "1 updated" in import_file(server, path, renewed)[1]

    clock.advance(days=340)  # 25 days before the new last day
    server.run_jobs()
    for user in (BORIS, CARLA):
        warned = emulator.wait_for(lambda user=user: dms_saying(emulator, user, "in 25 days"))
        assert len(warned) == 1
    clock.advance(days=18)
    server.run_jobs()
    emulator.wait_for(lambda: dms_saying(emulator, BORIS, "in 7 days"))
    assert len(dms_saying(emulator, BORIS, WARNING)) == 3


def test_a_departed_holder_keeps_their_record_but_gets_no_new_licence_and_no_warning(
    server: InProcessBot, emulator: SlackEmulator, tmp_path: Path, clock: FileClock
) -> None:
    """Boris leaves. The licence file that recorded his licence imports again unchanged (with a new
    licence for Eve beside it); a change to his licence, or a new one for him, is refused saying he has
    left; export compliance is still warned of its lapse, Boris is not."""
    path = tmp_path / "licences.csv"
    # Far from its last day: no warning is due before he leaves (the bot's scheduler runs by itself).
    boris = licence_row(clock, "P-1", BORIS, "DE", 60)
    import_file(server, path, boris)
    leavers = tmp_path / "directory.csv"
    kept = [line for line in (FIXTURES / "directory.csv").read_text().splitlines() if BORIS not in line]
    leavers.write_text("\n".join(kept) + "\n", encoding="utf-8")
    run_cli(server, "directory", "import", "--full", "--force", str(leavers))

    eve = licence_row(clock, "P-2", EVE, "FR", 90)
    assert "1 added, 0 updated, 1 unchanged" in import_file(server, path, boris, eve)[1]
    changed = licence_row(clock, "P-1", BORIS, "DE;FR", 60)
    code, _, stderr = import_file(server, path, changed, check=False)
    assert code == 2 and f":2: holder {BORIS} has left" in stderr
    added = run_cli(
        server, "licence", "add", "--number", "P-3", "--authority", "BIS", "--kind", "export",
        "--holder", BORIS, "--models", "mythos-5", "--countries", "DE",
        "--valid-from", today(clock).isoformat(),
        "--valid-until", (today(clock) + timedelta(days=9)).isoformat(), check=False,
    )  # fmt: skip
    assert added.returncode == 2 and "has left" in added.stderr
    assert [x["number"] for x in listed(server, "licence")] == ["P-1", "P-2"]

    clock.advance(days=52)  # 8 days before P-1's last day
    server.run_jobs()
    emulator.wait_for(lambda: dms_saying(emulator, CARLA, WARNING))
    assert dms_saying(emulator, BORIS, WARNING) == []


def test_a_licence_is_one_whatever_the_case_of_its_authority_and_number(
    server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    path = tmp_path / "licences.csv"
    import_file(server, path, licence_row(clock, "EX-C", EVE, "FR", 90))
    again = licence_row(clock, "ex-c", EVE, "FR", 90, authority="bis")
    assert "0 added, 0 updated, 1 unchanged" in import_file(server, path, again)[1]
    both = [licence_row(clock, "EX-D", EVE, "FR", 90), licence_row(clock, "ex-d", EVE, "FR", 90)]
    code, _, stderr = import_file(server, path, *both, check=False)
    assert code == 2 and ":3: licence BIS ex-d is also on line 2" in stderr
    # Two numbers that are one once case-folded (ß folds to ss) are one licence in a file too.
    both = [licence_row(clock, "EX-STRASSE", BORIS, "DE", 90), licence_row(clock, "EX-STRAßE", EVE, "FR", 90)]
    code, _, stderr = import_file(server, path, *both, check=False)
    assert code == 2 and ":3: licence BIS EX-STRAßE is also on line 2" in stderr
    # Case is folded beyond ASCII too (SQLite's lower() folds ASCII only).
    import_file(server, path, licence_row(clock, "ÄB-1", EVE, "FR", 90, authority="BÅFA"))
    again = licence_row(clock, "äb-1", EVE, "FR", 90, authority="båfa")
    assert "0 added, 0 updated, 1 unchanged" in import_file(server, path, again)[1]
    assert [(x["authority"], x["number"]) for x in listed(server, "licence")] == [
        ("BIS", "EX-C"),
        ("BÅFA", "ÄB-1"),
    ]


def test_dates_are_written_as_documented_and_a_past_licence_is_recorded_as_expired(
    server: InProcessBot, clock: FileClock
) -> None:
    def add(number: str, valid_from: str, valid_until: str) -> tuple[int, str]:
        done = run_cli(
            server, "licence", "add", "--number", number, "--authority", "BIS", "--kind", "export",
            "--holder", EVE, "--models", "mythos-5", "--countries", "FR",
            "--valid-from", valid_from, "--valid-until", valid_until, check=False,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    for written in ("20261201", "2026W482", "2026-1-1"):
        code, said = add("D-1", written, "2099-01-01")
        assert code == 2 and f"valid_from '{written}' is not a date (YYYY-MM-DD)" in said
    code, said = add("D-2", "2020-12-01", "2021-01-01")
    assert code == 0 and "recorded L1 as expired: its last day, 2021-01-01, has passed" in said
    (record,) = listed(server, "licence")
    assert record["status"] == "expired" and record["end_reason"] == "its last day passed"
    assert [e["subject_id"] for e in audit_events(server) if e["action"] == "licence.recorded"] == ["1"]


def test_a_licence_moved_to_another_holder_no_longer_keeps_the_first_holders_grant(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    boris = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    path = tmp_path / "licences.csv"
    import_file(server, path, licence_row(clock, "M-1", BORIS, "DE", 90))
    issue_licence_directive(server, tmp_path)
    assert grants_by_id(server)[boris]["licences"] == [1]

    import_file(server, path, licence_row(clock, "M-1", EVE, "DE;FR", 90))
    grant = grants_by_id(server)[boris]
    assert grant["status"] == "suspended" and grant["licences"] == []
    assert listed(server, "licence")[0]["grants"] == []


def test_a_scheduled_require_licence_directive_judges_licences_on_the_day_it_takes_effect(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path, clock: FileClock
) -> None:
    """Boris's licence ends in 2 days and Eve's starts in 3; the order takes effect in 5. The preview
    and the advance warning speak of Boris, whose licence will have ended, not Eve, whose will be in
    effect; on the day, Boris's grant is suspended and Eve's kept."""
    boris = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    eve = grant_through_slack(slack, emulator, server, EVE, "mythos-5")
    path = tmp_path / "licences.csv"
    start = (today(clock) + timedelta(days=3)).isoformat()
    import_file(
        server, path,
        licence_row(clock, "S-1", BORIS, "DE", 2),
        licence_row(clock, "S-2", EVE, "FR", 90, valid_from=start),
    )  # fmt: skip
    notice = tmp_path / "order.txt"
    notice.write_text(ORDER, encoding="utf-8")
    order = [
        "directive", "issue", "--title", "Licence required", "--authority", "Commerce",
        "--reference", "EO-7", "--notice-file", str(notice), "--models", "mythos-5",
        "--population", "non-us-persons", "--action", "require-licence",
        "--effective-at", (clock() + timedelta(days=5)).isoformat(),
    ]  # fmt: skip
    preview = json.loads(run_cli(server, *order, "--dry-run", "--json").stdout)
    assert [m["grants_suspended"] for m in preview["impact"]["models"]] == [1]
    assert preview["impact"]["people_to_notify"] == 1
    run_cli(server, *order)
    emulator.wait_for(lambda: dms_saying(emulator, BORIS, "takes effect"))
    assert dms_saying(emulator, EVE, "takes effect") == []

    clock.advance(days=5)
    server.run_jobs()
    grants = grants_by_id(server)
    assert grants[boris]["status"] == "suspended" and grants[eve]["status"] == "active"
