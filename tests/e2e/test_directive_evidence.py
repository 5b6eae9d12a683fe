"""The directive evidence page end to end: a directive issued over the test directory, its notices
delivered (and one refused) through the Slack emulator, then lifted; `accessbot directive report
--format html` writes the page, and a real browser shows it to a reader. Also the report's formats and
--output, and its bad input."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from tests.support.app import InProcessBot
from tests.support.browser import artifacts, chromium, require_browser
from tests.support.cli import run_cli
from tests.support.databases import using_postgres
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
        (["D1", "--format", "html", "--output", str(tmp_path)], "is a directory, not a file"),
        (["D1", "--format", "html", "--output", ""], "'' names no file"),
        (["D1", "--output", "."], "'.' names no file"),
        (["D1", "--output", "/"], "'/' names no file"),
    ]
    for args, needle in cases:
        result = run_cli(server, "directive", "report", *args, check=False)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and needle in result.stderr, (args, result.stderr)
        assert result.stdout == ""
    assert kept.read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_reader_sees_the_evidence_page_in_a_browser(
    server: InProcessBot, slack: SlackDriver, emulator: SlackEmulator, tmp_path: Path
) -> None:
    require_browser()
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    report = directive_history(server, slack, emulator, tmp_path)
    page_file = tmp_path / "D1-evidence.html"
    run_cli(server, "directive", "report", "D1", "--format", "html", "--output", str(page_file))
    boris = next(p for p in report["people"] if p["slack_user_id"] == BORIS)
    folder = artifacts(tmp_path)
    picture = f"directive-evidence-{'postgresql' if using_postgres() else 'sqlite'}"

    with chromium(tmp_path / "profile") as browser:
        browser.get(page_file.as_uri())
        try:
            alert = browser.switch_to.alert.text
        except NoAlertPresentException:
            alert = None
        assert alert is None, f"a script ran and raised an alert: {alert}"
        assert browser.execute_script("return document.scripts.length") == 0
        # Nothing was even tried: a blocked script or load would be in the console as a policy violation.
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

        assert browser.find_element(By.TAG_NAME, "h1").text == "Directive D1: Frontier models barred"
        headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
        assert headings == [
            "The order", "Timeline", "Summary", "People affected", "Suspended grants and reinstatements",
            "Notices to people", "Channel posts",
        ]  # fmt: skip
        notice = browser.find_element(By.CSS_SELECTOR, "#order .notice").text
        assert notice == NOTICE  # shown as written, line break included
        rows = {row.find_element(By.CSS_SELECTOR, ".person-id").text: row.text
                for row in browser.find_elements(By.CSS_SELECTOR, "#people tr.person")}  # fmt: skip
        assert sorted(rows) == sorted(p["slack_user_id"] for p in report["people"])
        assert rows[BORIS].startswith(SCRIPT_NAME)
        assert "suspended" in rows[BORIS] and "reinstated" in rows[BORIS]
        for sent in boris["notices"]:
            assert shown(sent["sent_at"]) in rows[BORIS]
        assert "stopped while pending" in rows[EVE] and "denied when asked" in rows[UMA]
        timeline = browser.find_element(By.ID, "timeline").text
        assert f"Lifted {shown(report['directive']['lifted_at'])}" in timeline
        assert f"Took effect {shown(report['directive']['activated_at'])}" in timeline
        channels = browser.find_element(By.ID, "channels").text
        assert "C0MYTHOS5" in channels and "not_in_channel" in channels
        summary = browser.find_element(By.ID, "summary").text
        assert f"Grants reinstated\n{report['summary']['grants_reinstated']}" in summary

        # The whole page in one picture, and as it prints.
        browser.set_window_size(1280, 800)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, int(height) + 120)  # the window's frame is counted in its height
        assert browser.save_screenshot(str(folder / f"{picture}.png"))
        printed = base64.b64decode(browser.print_page())
        assert printed.startswith(b"%PDF")
        (folder / f"{picture}.pdf").write_bytes(printed)
