"""Text and identifiers as they arrive from people: one place decides what is accepted, so that Slack,
the CLI and the database all see the same thing. Pure: no Slack, no database.

- `parse_db_id`: ids typed by people or carried in payloads (`R12` without its prefix, CLI arguments).
- `clean_text`: free text on its way into the database (justifications, reasons, directive fields,
  directory CSV cells).
- `terminal_safe`: stored text on its way to a terminal (the CLI's text output).
- `csv_safe`: stored values on their way into a CSV file a spreadsheet may open.
"""

from __future__ import annotations

import re

# The largest value of the databases' INTEGER columns (PostgreSQL `integer`, 4 bytes). SQLite would
# store more, but both databases must answer the same.
MAX_DB_ID = 2_147_483_647

# `[0-9]`, not `\d`: in a str pattern `\d` matches the digits of every script.
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")

# Characters no free-text field keeps: C0 controls but tab and line feed, DEL, C1 controls, lone
# surrogates (JSON can carry them, and Python reads undecodable command-line bytes as them; UTF-8 and
# PostgreSQL cannot store them) and the two non-characters U+FFFE and U+FFFF. A NUL is refused by
# PostgreSQL and kept by SQLite, so dropping it makes both behave alike.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Characters that reorder the text around them ("Trojan Source", CVE-2021-42574): the bidirectional
# embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069) and marks (LRM, RLM, ALM), as a
# character class. The terminal and pages built for people both show them instead of acting on them.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# What a terminal would act on in data printed to it: every control character, line breaks included
# (they would let a value forge a line of output), lone surrogates (they cannot be written to a UTF-8
# terminal at all), and the bidirectional controls, which reorder the rest of the printed line.
_TERMINAL_CONTROLS = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{BIDI_CONTROLS}]")
# First characters that make a spreadsheet treat a cell as a formula, or that a spreadsheet may skip
# before one: OWASP's CSV injection list (= + - @ tab CR), LF for the same reason as CR, and NUL,
# which OWASP ASVS 5.0 V1.2.10 adds.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")


def parse_db_id(text: object) -> int | None:
    """A database id written as 1 to 10 ASCII digits and at most MAX_DB_ID, else None.

    Shapes: "12" -> 12, "0012" -> 12; None for "0", "+1", " 1", "1_000", "\\u0661" (an Arabic-Indic
    one), "\\uff11" (a fullwidth one), "2147483648" and anything not a str. `int()` alone would accept
    digits of other scripts, signs, spaces and underscores, and numbers no INTEGER column holds
    (PostgreSQL then raises, SQLite answers "not found"); every id read from people or from Slack payloads
    goes through here so both databases and every surface answer the same.
    """
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_DB_ID else None


def clean_text(text: str) -> str:
    """Free text as it is stored: CR LF and lone CR become LF, and the characters in _UNSTORABLE (C0
    controls other than tab and line feed, DEL, C1 controls, lone surrogates, U+FFFE, U+FFFF) are
    dropped. Nothing else changes: no trimming, no length limit (callers check those after cleaning, so
    a value made only of control characters counts as empty).

    "a\\x00b\\r\\nc\\x1b[31m" -> "ab\\nc[31m"; "" -> "".
    """
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSTORABLE.sub("", text)


# What a value shown as one line (an identifier, a name) must not hold: line breaks, tabs and the other
# whitespace controls clean_text keeps, and the bidirectional controls, which would make it read as
# something else wherever it is shown.
_NOT_ONE_LINE = re.compile(f"[\t\n\r\x0b\x0c\x85\u2028\u2029{BIDI_CONTROLS}]")


def line_problem(text: str) -> str | None:
    """Why `text` cannot stand as one line of text (None when it can): a line break or tab, or a
    character that reverses the direction of the text around it.

    "EX-1" -> None; "EX\n1" -> "holds a line break or tab"; "EX\u202e1" -> "holds a text-direction
    control (U+202E)".
    """
    found = _NOT_ONE_LINE.search(text)
    if found is None:
        return None
    if found.group() in "\t\n\r\x0b\x0c\x85\u2028\u2029":
        return "holds a line break or tab"
    return f"holds a text-direction control (U+{ord(found.group()):04X})"


def terminal_safe(text: str) -> str:
    """A value from stored data, safe to print on one line of a terminal: control characters (escape
    sequences, line breaks, tabs), lone surrogates and bidirectional overrides are shown as U+FFFD
    instead of being acted on. Same length as the input, so columns still line up.

    "\\x1b]0;pwned\\x07Ann" -> "\\ufffd]0;pwned\\ufffdAnn"; "Ann\\nB" -> "Ann\\ufffdB".
    """
    return _TERMINAL_CONTROLS.sub("\ufffd", text)


def csv_safe(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula ("CSV injection", OWASP:
    https://owasp.org/www-community/attacks/CSV_Injection): a string starting with = + - @ tab, CR,
    LF or NUL gets a leading apostrophe, which spreadsheets read as "this cell is text". Other values
    (numbers, None, strings starting with anything else) pass through unchanged; quoting is left to the
    csv module.

    "=HYPERLINK(...)" -> "'=HYPERLINK(...)"; "-1" -> "'-1"; "cli:ann" -> "cli:ann"; 3 -> 3.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
