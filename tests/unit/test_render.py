"""The text helpers every message goes through: mrkdwn escaping, clipping, quotes, dates and mentions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.present.mrkdwn import (
    ELLIPSIS,
    channel_link,
    clip,
    escape_mrkdwn,
    mention,
    mrkdwn,
    plain_date,
    quote,
    slack_date,
)
from bot.render import Renderer

# An escaped text is whole when every & starts a complete entity.
_BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


# --- escape_mrkdwn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U0ADMIN01>", "&lt;@U0ADMIN01&gt;"),
        ("<https://evil.example|Approve>", "&lt;https://evil.example|Approve&gt;"),
        ("R&D", "R&amp;D"),
        ("&lt;", "&amp;lt;"),
        ("*bold* _it_ `code` \"quotes\" 'single'", "*bold* _it_ `code` \"quotes\" 'single'"),
        ("", ""),
    ],
)
def test_escape_mrkdwn_encodes_only_the_three_control_characters(text: str, expected: str) -> None:
    assert escape_mrkdwn(text) == expected


def test_escape_mrkdwn_accepts_non_text() -> None:
    assert escape_mrkdwn(12) == "12"  # type: ignore[arg-type]


# --- mrkdwn --------------------------------------------------------------------------------------


def test_mrkdwn_escapes_and_treats_none_as_empty() -> None:
    assert mrkdwn("<!here> & co") == "&lt;!here&gt; &amp; co"
    assert mrkdwn(None) == ""


def test_mrkdwn_leaves_text_within_the_limit_alone() -> None:
    assert mrkdwn("a<b", 6) == "a&lt;b"


def test_mrkdwn_limit_applies_to_the_escaped_text() -> None:
    assert mrkdwn("<<<<", 10) == "&lt;&lt;" + ELLIPSIS


@pytest.mark.parametrize("text", ["a<b>&c " * 30, "<" * 50, "x&" * 40, "<!channel> please & thanks " * 10])
def test_mrkdwn_clipping_never_cuts_an_entity_in_half(text: str) -> None:
    escaped = escape_mrkdwn(text)
    for limit in range(1, len(escaped) + 2):
        clipped = mrkdwn(text, limit)
        assert len(clipped) <= limit, limit
        if len(escaped) <= limit:
            assert clipped == escaped
            continue
        assert clipped.endswith(ELLIPSIS)
        body = clipped.removesuffix(ELLIPSIS)
        assert escaped.startswith(body), limit
        assert not _BROKEN_ENTITY.search(body), (limit, body)


def test_mrkdwn_drops_a_partial_entity_at_the_cut() -> None:
    # "ab&lt;cd" cut at 4 would leave "ab&l"; the whole entity goes instead.
    assert mrkdwn("ab<cd", 5) == "ab" + ELLIPSIS


# --- clip ----------------------------------------------------------------------------------------


def test_clip_leaves_short_text_alone() -> None:
    assert clip("hello", 5) == "hello"


def test_clip_ends_with_an_ellipsis_within_the_limit() -> None:
    assert clip("hello world", 6) == "hello" + ELLIPSIS
    assert clip("hello world", 7) == "hello" + ELLIPSIS  # no space before the ellipsis
    assert len(clip("x" * 5000, 3000)) == 3000


def test_clip_accepts_non_text() -> None:
    assert clip(123456, 4) == "123" + ELLIPSIS  # type: ignore[arg-type]


# --- quote ---------------------------------------------------------------------------------------


def test_quote_prefixes_each_line_and_escapes() -> None:
    assert quote("first <!channel>\n\nthird") == "&gt; first &lt;!channel&gt;\n&gt;\n&gt; third"


def test_quote_of_nothing() -> None:
    assert quote(None) == "&gt;"


def test_quote_clips_long_text() -> None:
    quoted = quote("word " * 1000, 100)
    assert quoted.startswith("&gt; word word")
    assert quoted.endswith(ELLIPSIS)
    assert len(quoted) <= 105


@pytest.mark.parametrize(
    "justification", ["ok\n" * 999 + "ok", "Needed for the pilot." + ("\n\n\n\n." * 590)]
)
def test_a_quoted_justification_fits_in_a_section(justification: str) -> None:
    assert len(justification) <= 3000  # passes the policy check
    assert len("*Justification*\n" + quote(justification, 2800)) <= 3000


# --- dates ---------------------------------------------------------------------------------------


def test_slack_date_has_a_utc_fallback() -> None:
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (
        slack_date(when)
        == f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|2025-03-04 05:06 UTC>"
    )


def test_slack_date_with_a_style() -> None:
    when = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)
    assert slack_date(when, "{date}") == "<!date^1741064760^{date}|2025-03-04 05:06 UTC>"


def test_slack_date_of_nothing_is_never() -> None:
    assert slack_date(None) == "never"


def test_plain_date() -> None:
    assert plain_date(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == "2025-12-31 23:59 UTC"
    assert plain_date(None) == "never"


# --- mentions and channels -----------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["U0ADMIN01", "W012A3CDE"])
def test_mention(user_id: str) -> None:
    assert mention(user_id) == f"<@{user_id}>"


@pytest.mark.parametrize("user_id", [None, "", "U1>|x", "!channel", "U123> <!here", "U 1", "U0-1"])
def test_mention_refuses_anything_but_letters_and_digits(user_id: str | None) -> None:
    assert mention(user_id) == "someone"


def test_channel_link() -> None:
    assert channel_link("C0AIMODELS") == "<#C0AIMODELS>"
    assert channel_link("#general <!here>") == "#general &lt;!here&gt;"


# --- Renderer ------------------------------------------------------------------------------------


def write(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.json.j2").write_text(source, encoding="utf-8")


def test_user_text_reaches_the_message_escaped_and_json_safe(tmp_path: Path) -> None:
    write(tmp_path, "note", '{"text": {{ ("Why: " ~ (why | mrkdwn)) | tojson }}}')
    why = 'He said "hi" <!channel> & left\n'
    rendered = Renderer(tmp_path).render("note", why=why)
    assert rendered == {"text": 'Why: He said "hi" &lt;!channel&gt; &amp; left\n'}


def test_template_that_is_not_json_names_the_template(tmp_path: Path) -> None:
    write(tmp_path, "broken", '{"text": {{ value }}}')
    with pytest.raises(ValueError, match=r"^template broken produced invalid JSON"):
        Renderer(tmp_path).render("broken", value="not quoted")


def test_template_must_produce_an_object(tmp_path: Path) -> None:
    write(tmp_path, "listy", "[1, 2]")
    with pytest.raises(ValueError, match=r"^template listy must produce a JSON object$"):
        Renderer(tmp_path).render("listy")


def test_missing_data_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    write(tmp_path, "strict", '{"text": "{{ absent }}"}')
    with pytest.raises(UndefinedError, match="'absent' is undefined"):
        Renderer(tmp_path).render("strict")


def test_template_names(tmp_path: Path) -> None:
    write(tmp_path, "b", "{}")
    write(tmp_path, "a", "{}")
    (tmp_path / "_macros.html").write_text("", encoding="utf-8")
    assert Renderer(tmp_path).template_names() == ["a.json.j2", "b.json.j2"]


def test_shipped_templates_all_load() -> None:
    renderer = Renderer(Path(__file__).resolve().parents[2] / "templates")
    names = renderer.template_names()
    assert "approval_request.json.j2" in names
    for name in names:
        renderer.env.get_template(name)  # raises on a syntax error
