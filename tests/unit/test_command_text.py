"""Reading `/access` command text as Slack sends it (entity-encoded), and the errors people see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.present.replies import Notice
from bot.slack.command_text import (
    AccessCommand,
    CommandError,
    DirectiveCommand,
    parse_access,
    parse_directive,
    parse_id,
    unescape,
)


def error_for(text: str) -> str:
    """The error for `text` as the person sees it: the listener shows it as a Notice, in mrkdwn."""
    with pytest.raises(CommandError) as caught:
        parse_access(text)
    return Notice(str(caught.value)).mrkdwn()


# --- subcommands without arguments ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_no_text_opens_the_form(text: str) -> None:
    assert parse_access(text) == AccessCommand("form")


@pytest.mark.parametrize("text", ["help", "HELP", "?", "-h", "--help", "help me please"])
def test_help(text: str) -> None:
    assert parse_access(text) == AccessCommand("help")


@pytest.mark.parametrize("text", ["status", "Status", "mine", "me"])
def test_status(text: str) -> None:
    assert parse_access(text) == AccessCommand("status")


@pytest.mark.parametrize("text", ["models", "catalog", "list", "  MODELS  "])
def test_models(text: str) -> None:
    assert parse_access(text) == AccessCommand("models")


# --- request -------------------------------------------------------------------------------------


def test_request_with_model_and_justification() -> None:
    assert parse_access("request mythos-5 Evaluating it for the tooling project") == AccessCommand(
        "request", model="mythos-5", justification="Evaluating it for the tooling project"
    )


def test_request_model_is_lower_cased_but_justification_is_kept_as_typed() -> None:
    command = parse_access("Request  Mythos-5   Need it for the EU pilot  ")
    assert command.model == "mythos-5"
    assert command.justification == "Need it for the EU pilot"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("8h", timedelta(hours=8)),
        ("2w", timedelta(weeks=2)),
        ("2weeks", timedelta(weeks=2)),
        ("7days", timedelta(days=7)),
        ("30m", timedelta(minutes=30)),
        # A number and a unit typed apart, as people write them.
        ("2 weeks", timedelta(weeks=2)),
        ("14 days", timedelta(days=14)),
        ("12 hours", timedelta(hours=12)),
        ("1 day", timedelta(days=1)),
        ("30 min", timedelta(minutes=30)),
    ],
)
def test_request_with_a_duration(token: str, expected: timedelta) -> None:
    command = parse_access(f"request mythos-5 {token} Evaluating it for the tooling project")
    assert command.duration == expected
    assert command.justification == "Evaluating it for the tooling project"


def test_request_with_a_duration_and_no_justification() -> None:
    assert parse_access("request lumen-3 7d") == AccessCommand(
        "request", model="lumen-3", duration=timedelta(days=7)
    )


def test_request_with_only_a_model() -> None:
    assert parse_access("request lumen-3") == AccessCommand("request", model="lumen-3")


def test_a_duration_later_in_the_text_is_part_of_the_justification() -> None:
    command = parse_access("request lumen-3 for about 7d of testing")
    assert command.duration is None
    assert command.justification == "for about 7d of testing"


def test_a_number_alone_is_part_of_the_justification() -> None:
    command = parse_access("request lumen-3 3 experiments need it")
    assert command.duration is None
    assert command.justification == "3 experiments need it"


@pytest.mark.parametrize(
    "word", ["3D", "2FA", "12mo", "3rd", "2W", "2 Weeks", "12H", "3 people", "3 m", "3.5 million", "٢ weeks"]
)
def test_number_words_that_are_not_durations_start_the_justification(word: str) -> None:
    command = parse_access(f"request mythos-5 {word} rendering benchmarks for the launch")
    assert command.duration is None
    assert command.justification == f"{word} rendering benchmarks for the launch"


@pytest.mark.parametrize("token", ["7x", "1234567d"])
def test_a_mistyped_duration_is_an_error_not_a_justification(token: str) -> None:
    assert error_for(f"request mythos-5 {token} Evaluating it for the tooling project").startswith(
        f"'{token}' is not a duration; write 30m, 8h, 7d or 2w. Usage: `/access request "
    )


@pytest.mark.parametrize("token", ["1.5d", "1.5 days", "0,5w", "2.5 hours", ".5d", "1.5 Days", "1½ days"])
def test_a_fraction_of_a_unit_is_an_error_not_a_justification(token: str) -> None:
    assert error_for(f"request mythos-5 {token} Evaluating it for the tooling project").startswith(
        f"'{token}' is not a duration: use whole numbers, like 36h. Usage: `/access request "
    )


@pytest.mark.parametrize("written", ["2 weeks,", "2 weeks:", "14 days.", "2weeks,", "7d;"])
def test_punctuation_after_the_duration_is_not_part_of_it(written: str) -> None:
    command = parse_access(f"request mythos-5 {written} for the Q3 launch review")
    assert command.duration in (timedelta(weeks=2), timedelta(days=7))
    assert command.justification == "for the Q3 launch review"


def test_a_number_and_a_unit_apart_too_long_to_grant_is_an_error() -> None:
    assert error_for("request mythos-5 1234567 days Evaluating it").startswith(
        "'1234567 days' is not a duration; write 30m, 8h, 7d or 2w."
    )


def test_a_zero_duration_is_an_error() -> None:
    assert error_for("request mythos-5 0d Evaluating it").startswith(
        "a duration must be longer than zero. Usage: `/access request "
    )


def test_request_without_a_model_says_how_to_list_them() -> None:
    message = error_for("request")
    assert message.startswith("Which model?")
    assert "`/access models`" in message


# --- ids: cancel, relinquish, revoke -------------------------------------------------------------


@pytest.mark.parametrize("token", ["R12", "r12", "#12", "12", "#R12", "R0012"])
def test_cancel_accepts_request_ids_in_every_form(token: str) -> None:
    assert parse_access(f"cancel {token}") == AccessCommand("cancel", target_id=12)


def test_cancel_uses_the_first_word_only() -> None:
    assert parse_access("cancel R12 changed my mind").target_id == 12


def test_cancel_without_an_id_says_how_to_find_one() -> None:
    assert error_for("cancel") == "Which request? Usage: `/access cancel R12` (`/access status` lists yours)."


def test_cancel_with_a_grant_id_says_it_is_a_grant() -> None:
    assert error_for("cancel G7") == (
        "G7 is a grant ID; this needs a request ID like R12. Usage: `/access cancel R12`"
    )


def test_cancel_with_a_directive_id_says_it_is_a_directive() -> None:
    assert error_for("cancel d3").startswith("d3 is a directive ID; this needs a request ID")


def test_cancel_with_an_unknown_prefix() -> None:
    assert error_for("cancel X3").startswith("X3 is a different kind of ID; this needs a request ID")


@pytest.mark.parametrize("token", ["abc", "R", "RR12", "R-12", "R12a", "R1234567890123"])
def test_cancel_with_something_that_is_not_an_id(token: str) -> None:
    assert (
        error_for(f"cancel {token}")
        == f"'{token}' is not a request ID (like R12). Usage: `/access cancel R12`"
    )


@pytest.mark.parametrize("token", ["G7", "g7", "#7", "7"])
def test_relinquish_accepts_grant_ids(token: str) -> None:
    assert parse_access(f"relinquish {token}") == AccessCommand("relinquish", target_id=7)


def test_relinquish_with_a_request_id_says_it_is_a_request() -> None:
    assert error_for("relinquish R12").startswith("R12 is a request ID; this needs a grant ID")


def test_relinquish_without_an_id() -> None:
    assert error_for("relinquish").startswith("Which grant? Usage: `/access relinquish G7`")


def test_revoke_takes_a_grant_and_a_reason() -> None:
    assert parse_access("revoke G7  left the team ") == AccessCommand(
        "revoke", target_id=7, reason="left the team"
    )


def test_revoke_without_a_reason() -> None:
    assert parse_access("revoke G7") == AccessCommand("revoke", target_id=7)


def test_revoke_without_a_grant() -> None:
    message = error_for("revoke")
    assert message.startswith("Usage: `/access revoke G7 ")
    assert message.endswith("` (the holder is told the reason).")


def test_revoke_with_a_request_id() -> None:
    assert error_for("revoke R3 wrong").startswith("R3 is a request ID; this needs a grant ID")


def test_parse_id_directly() -> None:
    assert parse_id("D4", "D", "directive", "/directive lift D4") == 4


# An Arabic-Indic one, an Extended Arabic-Indic one, a Devanagari one, fullwidth digits (and a fullwidth
# G), superscript and circled ones: int() reads most of these as numbers; none is an ASCII id.
OTHER_SCRIPTS = ["G\u0661", "G\u06f1", "G\u0967", "G\uff11\uff12", "\uff27" + "7", "G\u00b9", "G\u2460"]


@pytest.mark.parametrize("token", OTHER_SCRIPTS)
def test_digits_of_other_scripts_are_not_an_id(token: str) -> None:
    assert error_for(f"relinquish {token}") == (
        f"'{token}' is not a grant ID (like G12). Usage: `/access relinquish G7`"
    )


def test_revoke_with_an_arabic_indic_digit_is_refused_not_read_as_g1() -> None:
    message = error_for("revoke G\u0661 left the team")
    assert message.startswith("'G\u0661' is not a grant ID (like G12). Usage: `/access revoke G7 ")


@pytest.mark.parametrize(
    "token",
    [
        "R+1",
        "+1",
        "-1",
        "R-1",
        "1_000",
        "R1_000",
        "R0",
        "0",
        "#0",
        "R00000000000",  # 11 digits, even though the value is 0
        "R00000000001",  # 11 digits for 1: ids are at most 10 digits
        "R2147483648",  # one past PostgreSQL's integer
        "R9999999999",
        "R12345678901234567890",  # 20 digits: used to end in a traceback
        "R1.0",
        "R1e3",
        "R0x10",
        "##12",
        "#",
        "R12#",
    ],
)
def test_cancel_refuses_ids_outside_the_database_range_or_not_plain_digits(token: str) -> None:
    assert (
        error_for(f"cancel {token}")
        == f"'{token}' is not a request ID (like R12). Usage: `/access cancel R12`"
    )


@pytest.mark.parametrize(("token", "expected"), [("R1", 1), ("R2147483647", 2147483647), ("R0000000012", 12)])
def test_cancel_accepts_the_whole_database_range(token: str, expected: int) -> None:
    assert parse_access(f"cancel {token}") == AccessCommand("cancel", target_id=expected)


@pytest.mark.parametrize("token", [" D4", "D4 ", "D 4", "D4\n", "\tD4"])
def test_parse_id_takes_one_word_exactly_as_typed(token: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_id(token, "D", "directive", "/directive lift D3")
    assert "is not a directive ID (like D12). Usage: `/directive lift D3`" in str(caught.value)


@pytest.mark.parametrize("text", ["lift D\u0661", "report D2147483648", "lift D+3 why", "report 3_0"])
def test_directive_lift_and_report_refuse_what_is_not_a_directive_id(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_directive(text)
    token = text.split()[1]
    assert str(caught.value).startswith(f"'{token}' is not a directive ID (like D12). Usage: `/directive ")


def test_directive_lift_reads_the_id_and_the_reason() -> None:
    assert parse_directive("lift D3 the order was withdrawn") == DirectiveCommand(
        "lift", target_id=3, reason="the order was withdrawn"
    )
    assert parse_directive("report #2147483647") == DirectiveCommand("report", target_id=2147483647)


# --- unknown subcommands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("reqest", "request"),
        ("cancle", "cancel"),
        ("stauts", "status"),
        ("revok", "revoke"),
        ("modles", "models"),
    ],
)
def test_unknown_subcommand_suggests_the_closest(typed: str, meant: str) -> None:
    assert error_for(f"{typed} something") == (
        f"I don't know `/access {typed}`. Did you mean `/access {meant}`? `/access help` lists what I can do."
    )


def test_unknown_subcommand_without_a_close_match() -> None:
    assert error_for("xyzzy") == "I don't know `/access xyzzy`. `/access help` lists what I can do."


def test_unknown_subcommand_is_shortened_in_the_message() -> None:
    message = error_for("z" * 100)
    assert "z" * 40 in message
    assert "z" * 41 not in message


# --- Slack's entity encoding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("R&amp;D work", "R&D work"),
        ("a &lt;b&gt; c", "a <b> c"),
        ("&amp;lt; stays literal", "&lt; stays literal"),
        ("no entities here", "no entities here"),
        ("non&nbsp;breaking", "non breaking"),
    ],
)
def test_unescape_gives_back_what_the_person_typed(sent: str, typed: str) -> None:
    assert unescape(sent) == typed


def test_request_justification_is_unescaped() -> None:
    command = parse_access("request lumen-3 R&amp;D for the &lt;core&gt; team, see &lt;https://x.example&gt;")
    assert command.justification == "R&D for the <core> team, see <https://x.example>"


def test_revoke_reason_is_unescaped() -> None:
    assert parse_access("revoke G7 misuse &amp; abuse").reason == "misuse & abuse"


def test_encoded_whitespace_still_separates_words() -> None:
    assert parse_access("cancel&nbsp;R12") == AccessCommand("cancel", target_id=12)


# --- user text in errors is escaped --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "&lt;!channel&gt;",
        "cancel &lt;!channel&gt;",
        "relinquish &lt;@U0ADMIN01&gt;",
        "cancel &lt;https://evil.example|R12&gt;",
    ],
)
def test_typed_mentions_and_links_in_errors_are_escaped(text: str) -> None:
    message = error_for(text)
    assert "<" not in message
    assert ">" not in message
    assert "&lt;" in message


def test_typed_mention_in_a_revoke_id_is_escaped() -> None:
    message = error_for("revoke &lt;!here&gt; now")
    assert "'&lt;!here&gt;' is not a grant ID" in message
    assert "<!here>" not in message


@pytest.mark.parametrize(
    "text", ["request", "request lumen-3 7x why", "request lumen-3 0d why", "revoke", "revoke R3"]
)
def test_usage_in_errors_is_valid_mrkdwn(text: str) -> None:
    message = error_for(text)
    assert "<" not in message
    assert ">" not in message


def test_escaped_error_keeps_the_typed_text_readable() -> None:
    assert error_for("cancel &lt;!channel&gt;") == (
        "'&lt;!channel&gt;' is not a request ID (like R12). Usage: `/access cancel R12`"
    )


def test_ampersand_in_an_unknown_subcommand_is_escaped() -> None:
    assert "`/access a&amp;b`" in error_for("a&amp;b")


def test_command_error_is_a_value_error() -> None:
    assert issubclass(CommandError, ValueError)


# --- free text is stored as clean_text leaves it -------------------------------------------------


def test_justification_loses_characters_no_database_stores() -> None:
    command = parse_access("request lumen-3 7d Eval\x00uating\x1b[2J it\r\nfor Q3\x7f")
    assert command.justification == "Evaluating[2J it\nfor Q3"


def test_revoke_reason_loses_control_characters_and_one_made_only_of_them_is_empty() -> None:
    assert parse_access("revoke G7 left\x00 the team\x9b").reason == "left the team"
    assert parse_access("revoke G7 \x00\x01\x02") == AccessCommand("revoke", target_id=7)


def test_directive_lift_reason_loses_control_characters() -> None:
    assert parse_directive("lift D3 with\x00drawn\x1b").reason == "withdrawn"


def test_delegation_commands() -> None:
    until = parse_access("delegate <@U0PETE001|pete> until 2026-12-24 all")
    assert until.action == "delegate" and until.user_id == "U0PETE001" and until.role is None
    assert until.at is not None and until.at.isoformat() == "2026-12-25T00:00:00+00:00"
    assert parse_access("delegate <@U0PETE001|pete> until 2026-12-24 manager").role == "manager"
    assert parse_access("delegate list").action == "delegate_list"
    assert parse_access("delegate end <@U0PETE001|pete>").user_id == "U0PETE001"
    with pytest.raises(CommandError, match="too far away"):
        parse_access("delegate <@U0PETE001|pete> until 9999-12-31")
    with pytest.raises(CommandError, match="Usage"):
        parse_access("delegate <@U0PETE001|pete> 2026-12-24")
