"""The directive evidence page end to end: a directive issued over the test directory, its notices
delivered (and one refused) through the Slack emulator, then lifted; `accessbot directive report
--format html` writes the page. Also the report's formats and --output, and its bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.app import InProcessBot
from tests.support.cli import run_cli
from tests.support.flows import WHY
from tests.support.pages import read_page
from tests.support.seed import add_grants, directory_file
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, BORIS, EVE, UMA = "U0ALICE01", "U0BORIS01", "U0EVE0001", "U0UMA0001"
GHOST = "U0GHOST01"  # in the directory, unknown to Slack: the DM to them fails
SCRIPT_NAME = "<script>alert(1)</script>"
NOTICE = 'Mythos 5 is barred to foreign nationals. </style><script>alert(2)</script> & "licences"\nAsk #help.'


def issue(server: InProcessBot, tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    run_cli(
        server,
        "directive", "issue", "--title", "Frontier models barred", "--authority", "US Department of Commerce",
        "--reference", "EO-2026-117", "--models", "mythos-5", "--population", "non-us-persons",
        "--action", "suspend", "--notice-file", str(notice),
    )  # fmt: skip


def directive_history(
    server: InProcessBot, slack: SlackDriver, emulator: SlackEmulator, tmp_path: Path
) -> dict[str, Any]:
    """D1 over mythos-5 for non-US persons, issued, announced and lifted an hour later: Boris (named
    like a script) and the ghost lose their grants and get them back (Alice, a US person, keeps hers),
    Eve's pending request is stopped, Uma's new one is denied; the model's channel refuses the post
    (private, the bot not in it). Returns `directive report D1 --json`."""
    renamed = directory_file(tmp_path, "directory.csv", **{BORIS: {"name": SCRIPT_NAME}})
    run_cli(server, "directory", "import", str(renamed))
    add_grants(server.env["DATABASE_URL"], [ALICE, BORIS, GHOST], "mythos-5")
    assert "filed" in slack.command(EVE, f"request mythos-5 {WHY}").body
    emulator.set_channel("C0MYTHOS5", is_private=True, bot_is_member=False)
    server.settle()
    issue(server, tmp_path)
    server.settle()
    assert "Directive D1" in slack.command(UMA, f"request mythos-5 {WHY}").body
    server.clock.advance(minutes=60)
    run_cli(server, "directive", "lift", "D1", "--reason", "Order rescinded")
    server.settle()
    return json.loads(run_cli(server, "directive", "report", "D1", "--json").stdout)


def shown(iso: str | None) -> str:
    """An ISO 8601 time of --json as the page shows it (UTC, to the second)."""
    assert iso is not None and iso.endswith("+00:00")
    return iso[:19] + "Z"


def test_report_formats_and_output(
    server: InProcessBot, slack: SlackDriver, emulator: SlackEmulator, tmp_path: Path
) -> None:
    report = directive_history(server, slack, emulator, tmp_path)
    # Additive keys only: the order's text and the lift reason; each notice's queued and delivery times.
    assert report["directive"]["notice"] == NOTICE and report["directive"]["lift_reason"] == "Order rescinded"
    boris = next(p for p in report["people"] if p["slack_user_id"] == BORIS)
    assert [(n["phase"], n["status"]) for n in boris["notices"]] == [("active", "sent"), ("lifted", "sent")]
    assert all(n["queued_at"] <= n["sent_at"] for n in boris["notices"])
    channel = report["channels"][0]
    assert (channel["status"], channel["error"], channel["sent_at"]) == ("failed", "not_in_channel", None)

    text = run_cli(server, "directive", "report", "D1").stdout
    assert run_cli(server, "directive", "report", "D1", "--format", "text").stdout == text
    as_json = run_cli(server, "directive", "report", "D1", "--format", "json", "--json").stdout
    assert json.loads(as_json) == report
    written = run_cli(server, "directive", "report", "D1", "--output", str(tmp_path / "report.txt"))
    assert written.stdout == f"wrote the text report of D1 to {tmp_path / 'report.txt'}\n"
    assert (tmp_path / "report.txt").read_text(encoding="utf-8") == text

    page_file = tmp_path / "evidence.html"
    run_cli(server, "directive", "report", "D1", "--format", "html", "--output", str(page_file))
    page = read_page(page_file.read_text(encoding="utf-8"))
    assert "script" not in [tag for tag, _ in page.tags]
    people = page.sections["people"]
    assert f"{SCRIPT_NAME} {BORIS}" in people
    assert f"taking effect notice: delivered {shown(boris['notices'][0]['sent_at'])}" in people
    assert f"lifting notice: delivered {shown(boris['notices'][1]['sent_at'])}" in people
    assert "R1 Mythos 5 (mythos-5): stopped while pending" in people
    assert re.search(r"R\d+ Mythos 5 \(mythos-5\): denied when asked", people)
    ghost = next(p for p in report["people"] if p["slack_user_id"] == GHOST)["notices"][0]
    assert ghost["status"] == "failed" and f"not delivered: {ghost['error']}" in people
    assert "C0MYTHOS5 taking effect" in page.sections["channels"]
    assert "not delivered: not_in_channel" in page.sections["channels"]
    lifted = shown(report["directive"]["lifted_at"])
    assert f"Lifted {lifted} lifted by" in page.sections["timeline"] and "Order rescinded" in page.text
    assert page.sections["grants"].count("reinstated") == 2


def test_report_bad_input_is_one_line_and_leaves_no_file(server: InProcessBot, tmp_path: Path) -> None:
    issue(server, tmp_path)
    kept = tmp_path / "kept.html"
    kept.write_text("before", encoding="utf-8")
    cases = [
        (["D9", "--format", "html", "--output", str(kept)], "There is no directive D9"),
        (["D1", "--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
        (["D1", "--json", "--format", "html"], "--json means --format json, not --format html"),
        (["D1", "--format", "html", "--output", str(tmp_path / "missing" / "r.html")], "cannot be written"),
        (["D1", "--format", "html", "--output", str(tmp_path)], "cannot be written"),
    ]
    for args, needle in cases:
        result = run_cli(server, "directive", "report", *args, check=False)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and needle in result.stderr, (args, result.stderr)
        assert result.stdout == ""
    assert kept.read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
