"""The text and id rules every surface shares (bot/domain/text.py): what is an id, what is stored, what
is printed on a terminal and what goes into a CSV cell."""

from __future__ import annotations

import csv
import io

import pytest

from bot.domain.text import MAX_DB_ID, clean_text, csv_safe, line_problem, parse_db_id, terminal_safe

# --- parse_db_id ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("12", 12), ("0012", 12), ("0000000001", 1), ("2147483647", MAX_DB_ID)],
)
def test_ids_are_ascii_digits_within_the_integer_range(text: str, expected: int) -> None:
    assert parse_db_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "0000",
        "+1",
        "-1",
        " 1",
        "1 ",
        "1\n",
        "1_000",
        "1.0",
        "1e3",
        "0x1",
        "2147483648",  # one past PostgreSQL's integer
        "9999999999",
        "00000000001",  # eleven digits
        "1234567890123456789",  # 19 digits: int() reads it, no INTEGER column holds it
        "\u0661",  # ARABIC-INDIC DIGIT ONE: int() reads it as 1
        "\u06f7",  # EXTENDED ARABIC-INDIC DIGIT SEVEN
        "\u0967",  # DEVANAGARI DIGIT ONE
        "\uff11\uff12",  # FULLWIDTH DIGIT ONE, TWO
        "\u00b9",  # SUPERSCRIPT ONE
        "R12",
        "twelve",
    ],
)
def test_anything_else_is_not_an_id(text: str) -> None:
    assert parse_db_id(text) is None


@pytest.mark.parametrize("value", [None, 12, 12.0, b"12", ["12"]])
def test_only_text_can_be_an_id(value: object) -> None:
    assert parse_db_id(value) is None


# --- clean_text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("Ann\x00 Lee", "Ann Lee"),  # PostgreSQL refuses NUL, SQLite keeps it: both now store the same
        ("\x1b[31mred\x1b[0m", "[31mred[0m"),  # the ESC goes; the printable rest is text
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("tab\tand\nline feed stay", "tab\tand\nline feed stay"),
        ("bell\x07 backspace\x08 del\x7f c1\x85\x9b", "bell backspace del c1"),
        ("lone \ud800 surrogate \udcff", "lone  surrogate "),
        ("non\ufffe-char\uffff", "non-char"),
        ("\x00\x01\x1f", ""),
        ("", ""),
        ("Zoë 李 \U0001f600 \u202e", "Zoë 李 \U0001f600 \u202e"),  # letters, emoji, format chars: kept
    ],
)
def test_clean_text_drops_what_no_database_stores(text: str, stored: str) -> None:
    assert clean_text(text) == stored


def test_clean_text_is_idempotent() -> None:
    messy = "a\r\x00\nb\x1b\r\r\nc\ud800"
    assert clean_text(clean_text(messy)) == clean_text(messy) == "a\n\nb\n\nc"


def test_cleaned_text_encodes_as_utf8() -> None:
    every_code_point = "".join(chr(c) for c in range(0x110000))
    clean_text(every_code_point).encode("utf-8")  # raises if a surrogate survived


# --- terminal_safe -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J\x1b[31mAnn", "\ufffd[2J\ufffd[31mAnn"),  # clear screen, colour
        ("\x1b]0;owned\x07", "\ufffd]0;owned\ufffd"),  # set the window title
        ("\x9b31m", "\ufffd31m"),  # the one-byte C1 CSI
        ("Ann\nU0FORGED  forged row", "Ann\ufffdU0FORGED  forged row"),
        ("a\rb\tc\x00d\x7f", "a\ufffdb\ufffdc\ufffdd\ufffd"),
        ("safe\u202etxt.exe", "safe\ufffdtxt.exe"),  # RIGHT-TO-LEFT OVERRIDE reorders the line
        ("\u2066isolate\u2069", "\ufffdisolate\ufffd"),
        (
            "D1\u200f \u061cOrder\u200e",
            "D1\ufffd \ufffdOrder\ufffd",
        ),  # right-to-left, Arabic, left-to-right marks
        ("\udcff", "\ufffd"),  # an undecodable byte, as Python reads it from argv or a file name
        ("Zoë 李 \U0001f600 عربى", "Zoë 李 \U0001f600 عربى"),
    ],
)
def test_terminal_safe_shows_control_characters_instead_of_acting_on_them(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_terminal_safe_keeps_the_length_so_columns_line_up() -> None:
    text = "a\x1b[0mb\n"
    assert len(terminal_safe(text)) == len(text)


# --- csv_safe ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("https://evil.example","x")', '\'=HYPERLINK("https://evil.example","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("\x00=1", "'\x00=1"),
        ("cli:ann", "cli:ann"),
        ("a=b", "a=b"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_csv_safe_turns_formula_starts_into_text(value: object, cell: object) -> None:
    assert csv_safe(value) == cell


def test_a_neutralised_cell_survives_csv_quoting() -> None:
    out = io.StringIO()
    csv.writer(out).writerow([csv_safe('=1+1,"x"'), csv_safe("plain")])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ['\'=1+1,"x"', "plain"]


# --- line_problem -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["EX-2026-0117", "US Department of Commerce, BIS", "Ünïcode ok", ""])
def test_text_on_one_line_has_no_line_problem(text: str) -> None:
    assert line_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("EX\n1", "holds a line break or tab"),
        ("EX\r1", "holds a line break or tab"),
        ("A\tB", "holds a line break or tab"),
        ("A\u2028B", "holds a line break or tab"),  # Unicode's line separator
        ("Q8\u202e", "holds a text-direction control (U+202E)"),
        ("x\u2066y", "holds a text-direction control (U+2066)"),
        ("x\u200fy", "holds a text-direction control (U+200F)"),
    ],
)
def test_line_breaks_tabs_and_direction_controls_are_named(text: str, problem: str) -> None:
    assert line_problem(text) == problem
