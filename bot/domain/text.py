"""Text and identifiers as they arrive from people: one place decides what is accepted, so that Slack,
the CLI and the database all see the same thing. Pure: no Slack, no database."""

from __future__ import annotations

import re

# The largest value of the databases' INTEGER columns (PostgreSQL `integer`, 4 bytes). SQLite would
# store more, but both databases must answer the same.
MAX_DB_ID = 2_147_483_647

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}", re.ASCII)

# Characters no free-text field keeps: C0 controls but tab and line feed, DEL, C1 controls, lone
# surrogates (JSON can carry them; UTF-8 and PostgreSQL cannot) and the two non-characters U+FFFE and
# U+FFFF. A NUL is refused by PostgreSQL and kept by SQLite, so dropping it makes both behave alike.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What a terminal would act on in data printed to it: every control character, line breaks included
# (they would let a value forge a line of output).
_TERMINAL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Cells that a spreadsheet would run as a formula (OWASP's CSV injection guidance).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def parse_db_id(text: object) -> int | None:
    """A database id written as 1 to 10 ASCII digits and at most MAX_DB_ID, else None.

    `int()` alone would accept digits of other scripts (an Arabic-Indic one is 1), signs, spaces,
    underscores and numbers no INTEGER column holds; every id read from people or from Slack payloads
    goes through here.
    """
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_DB_ID else None


def clean_text(text: str) -> str:
    """Free text as it is stored: CR LF and lone CR become LF, and control characters other than tab and
    line feed are dropped (see _UNSTORABLE)."""
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSTORABLE.sub("", text)


def terminal_safe(text: str) -> str:
    """A value from stored data, safe to print on one line of a terminal: control characters (escape
    sequences, line breaks) are shown as U+FFFD instead of being acted on."""
    return _TERMINAL_CONTROLS.sub("\ufffd", text)


def csv_safe(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a string starting with = + - @ or a control character
    gets a leading apostrophe. Other values pass through unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
