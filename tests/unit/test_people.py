"""Reading the directory CSV: the header, each row's rules, and whole-file checks with line numbers."""

from __future__ import annotations

import pytest

from bot.domain.people import (
    CSV_COLUMNS,
    MAX_NAME,
    DirectoryError,
    Person,
    cell_text,
    check_header,
    is_email,
    is_slack_user_id,
    parse_row,
    parse_rows,
)


def row(**overrides: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {
        "slack_user_id": "U0ALICE01",
        "email": "alice@example.com",
        "name": "Alice Chen",
        "manager_email": "maria@example.com",
        "department": "Research",
        "work_country": "US",
        "citizenships": "US;IE",
        "us_person": "yes",
        "roles": "model-owner;export-compliance",
    }
    base.update(overrides)
    return base


def problem(**overrides: str | None) -> str:
    with pytest.raises(ValueError) as caught:
        parse_row(row(**overrides))
    return str(caught.value)


# --- check_header -------------------------------------------------------------------------------


def test_header_with_every_column_in_any_order_is_fine() -> None:
    assert check_header(reversed(CSV_COLUMNS)) == []


def test_header_with_only_the_required_columns_is_fine() -> None:
    assert check_header(["name", "email", "slack_user_id"]) == []


def test_header_names_missing_required_columns() -> None:
    assert check_header(["slack_user_id", "department"]) == ["missing column(s): email, name"]


def test_header_names_unknown_columns_and_lists_the_expected_ones() -> None:
    problems = check_header(["slack_user_id", "email", "name", "Email", "phone"])
    assert problems == [f"unknown column(s): Email, phone; expected {', '.join(CSV_COLUMNS)}"]


def test_header_names_repeated_columns() -> None:
    assert check_header(["slack_user_id", "email", "name", "roles", "email", "roles"]) == [
        "repeated column(s): email, roles"
    ]


def test_header_reports_every_kind_of_problem_at_once() -> None:
    problems = check_header(["slack_user_id", "slack_user_id", "nickname"])
    assert len(problems) == 3
    assert problems[0] == "missing column(s): email, name"
    assert problems[1].startswith("unknown column(s): nickname;")
    assert problems[2] == "repeated column(s): slack_user_id"


def test_header_ignores_spaces_around_column_names() -> None:
    assert check_header([" slack_user_id", "email ", " name "]) == []


def test_a_header_that_check_header_accepts_can_be_read_by_parse_row() -> None:
    header = ["slack_user_id", " email", " name"]
    assert check_header(header) == []
    person = parse_row(dict(zip(header, ["U0ALICE01", "alice@example.com", "Alice Chen"], strict=True)))
    assert person.email == "alice@example.com"
    assert person.name == "Alice Chen"


# --- parse_row: a good row ------------------------------------------------------------------------


def test_parse_row_reads_every_column() -> None:
    assert parse_row(row()) == Person(
        slack_user_id="U0ALICE01",
        email="alice@example.com",
        name="Alice Chen",
        manager_email="maria@example.com",
        department="Research",
        work_country="US",
        citizenships=frozenset({"US", "IE"}),
        us_person=True,
        roles=frozenset({"model-owner", "export-compliance"}),
    )


def test_parse_row_with_only_required_columns_leaves_the_rest_unknown() -> None:
    person = parse_row({"slack_user_id": "W0ALICE01", "email": "alice@example.com", "name": "Alice"})
    assert person.manager_email is None
    assert person.department is None
    assert person.work_country is None
    assert person.citizenships == frozenset()
    assert person.us_person is None
    assert person.roles == frozenset()


def test_parse_row_treats_missing_cells_as_empty() -> None:
    # csv.DictReader fills short rows with None.
    person = parse_row(row(manager_email=None, department=None, citizenships=None, roles=None))
    assert person.manager_email is None
    assert person.department is None
    assert person.citizenships == frozenset()
    assert person.roles == frozenset()


def test_parse_row_trims_cells_and_lower_cases_emails() -> None:
    person = parse_row(
        row(
            slack_user_id="  U0ALICE01 ",
            email=" Alice@Example.COM ",
            name="  Alice Chen  ",
            manager_email=" Maria@Example.com",
            department="  ",
            citizenships=" US ; ; IE ;",
            roles=" access-admin ;",
        )
    )
    assert person.slack_user_id == "U0ALICE01"
    assert person.email == "alice@example.com"
    assert person.name == "Alice Chen"
    assert person.manager_email == "maria@example.com"
    assert person.department is None
    assert person.citizenships == frozenset({"US", "IE"})
    assert person.roles == frozenset({"access-admin"})


def test_person_has_role() -> None:
    person = parse_row(row(roles="access-admin"))
    assert person.has_role("access-admin")
    assert not person.has_role("model-owner")


# --- parse_row: us_person ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("YES", True), (" Yes ", True), ("no", False), ("No", False), ("", None), (None, None)],
)
def test_us_person_is_yes_no_or_unknown(text: str | None, expected: bool | None) -> None:
    assert parse_row(row(us_person=text)).us_person is expected


@pytest.mark.parametrize("text", ["true", "y", "1", "unknown", "US"])
def test_us_person_refuses_anything_but_yes_no_or_empty(text: str) -> None:
    assert problem(us_person=text) == f"us_person must be yes, no or empty (unknown), not '{text}'"


# --- parse_row: identity -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", None])
def test_slack_user_id_is_required(value: str | None) -> None:
    assert problem(slack_user_id=value) == "slack_user_id is empty"


@pytest.mark.parametrize("value", ["alice", "u0alice01", "C0ALICE01", "U0", "U0ALICE-01", "U" + "A" * 21])
def test_slack_user_id_must_look_like_one(value: str) -> None:
    assert problem(slack_user_id=value) == f"slack_user_id '{value}' is not a Slack user ID (like U024BE7LH)"


@pytest.mark.parametrize("value", ["U024BE7LH", "W012A3CDE", "UAB"])
def test_is_slack_user_id_accepts_user_and_enterprise_ids(value: str) -> None:
    assert is_slack_user_id(value)


@pytest.mark.parametrize("value", ["", "alice", "alice@", "@example.com", "alice@example", "a b@example.com"])
def test_email_must_be_an_address(value: str) -> None:
    assert problem(email=value) == f"email '{value}' is not an email address"


def test_email_problem_quotes_the_cell_as_written() -> None:
    assert problem(email=" Alice@Example ") == "email 'Alice@Example' is not an email address"


def test_is_email_refuses_angle_brackets() -> None:
    assert is_email("alice@example.com")
    assert not is_email("<alice@example.com>")


@pytest.mark.parametrize("value", ["", "  ", None])
def test_name_is_required(value: str | None) -> None:
    assert problem(name=value) == "name is empty"


def test_name_has_a_length_limit() -> None:
    assert parse_row(row(name="N" * MAX_NAME)).name == "N" * MAX_NAME
    assert problem(name="N" * (MAX_NAME + 1)) == f"name is longer than {MAX_NAME} characters"


def test_manager_email_must_be_an_address() -> None:
    assert problem(manager_email="maria") == "manager_email 'maria' is not an email address"


def test_manager_email_cannot_be_the_persons_own() -> None:
    assert problem(manager_email="ALICE@example.com") == "manager_email is the person's own email"


# --- parse_row: countries and roles --------------------------------------------------------------


def test_work_country_must_be_an_iso_code() -> None:
    assert problem(work_country="ZZ") == "work_country 'ZZ' is not an ISO 3166-1 alpha-2 country code"


def test_work_country_uk_suggests_gb() -> None:
    assert (
        problem(work_country="UK") == "work_country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?"
    )


def test_work_country_must_be_upper_case() -> None:
    assert problem(work_country="us") == "work_country 'us' must be upper case (US)"


def test_citizenships_are_checked_one_by_one() -> None:
    assert (
        problem(citizenships="US;UK")
        == "citizenships 'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?"
    )
    assert problem(citizenships="US;ie") == "citizenships 'ie' must be upper case (IE)"


def test_citizenships_greek_el_suggests_gr() -> None:
    assert (
        problem(citizenships="EL") == "citizenships 'EL' is not an ISO 3166-1 alpha-2 code; did you mean GR?"
    )


def test_kosovo_has_no_code_to_suggest() -> None:
    assert problem(citizenships="KS") == (
        "citizenships 'KS' is not an ISO 3166-1 alpha-2 code (Kosovo has no assigned code)"
    )


def test_citizenships_written_with_commas_are_refused() -> None:
    assert problem(citizenships="US,IE") == "citizenships 'US,IE' is not an ISO 3166-1 alpha-2 country code"


@pytest.mark.parametrize("value", ["Access-Admin", "access admin", "1admin", "admin_role", "-admin"])
def test_roles_must_be_lower_case_dashed_names(value: str) -> None:
    assert problem(roles=f"model-owner;{value}") == (
        f"role '{value.strip()}' must be lower-case letters, digits and dashes"
    )


# --- parse_rows ----------------------------------------------------------------------------------


def test_parse_rows_returns_people_in_file_order() -> None:
    people = parse_rows(
        [
            (2, row()),
            (3, row(slack_user_id="U0BORIS01", email="boris@example.com", name="Boris", us_person="no")),
        ]
    )
    assert [p.slack_user_id for p in people] == ["U0ALICE01", "U0BORIS01"]
    assert [p.us_person for p in people] == [True, False]


def test_parse_rows_of_nothing_is_nobody() -> None:
    assert parse_rows([]) == []


def test_parse_rows_reports_every_bad_line_with_its_file_line_number() -> None:
    rows = [
        (2, row()),
        (3, row(slack_user_id="U0BORIS01", email="boris")),
        (5, row(slack_user_id="U0CARLA01", email="carla@example.com", work_country="UK")),
        (6, row(slack_user_id="U0DANA001", email="dana@example.com", us_person="maybe")),
    ]
    with pytest.raises(DirectoryError) as caught:
        parse_rows(rows)
    assert caught.value.problems == [
        (3, "email 'boris' is not an email address"),
        (5, "work_country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?"),
        (6, "us_person must be yes, no or empty (unknown), not 'maybe'"),
    ]
    assert str(caught.value) == (
        "line 3: email 'boris' is not an email address; "
        "line 5: work_country 'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?; "
        "line 6: us_person must be yes, no or empty (unknown), not 'maybe'"
    )


def test_parse_rows_imports_nobody_when_any_line_is_bad() -> None:
    with pytest.raises(DirectoryError):
        parse_rows([(2, row()), (3, row(slack_user_id="bad", email="b@example.com"))])


def test_parse_rows_reports_a_repeated_slack_user_id_with_the_first_line() -> None:
    rows = [
        (2, row()),
        (3, row(email="other@example.com")),
    ]
    with pytest.raises(DirectoryError) as caught:
        parse_rows(rows)
    assert caught.value.problems == [(3, "slack_user_id U0ALICE01 repeats line 2")]


def test_parse_rows_reports_a_repeated_email_whatever_its_case() -> None:
    rows = [
        (2, row()),
        (4, row(slack_user_id="U0ALICE02", email="ALICE@example.com")),
    ]
    with pytest.raises(DirectoryError) as caught:
        parse_rows(rows)
    assert caught.value.problems == [(4, "email alice@example.com repeats line 2")]


def test_every_repeat_names_the_first_line() -> None:
    rows = [
        (2, row()),
        (3, row(slack_user_id="U0ALICE02")),
        (4, row(slack_user_id="U0ALICE03")),
        (5, row(email="a5@example.com")),
        (6, row(email="a6@example.com")),
    ]
    with pytest.raises(DirectoryError) as caught:
        parse_rows(rows)
    assert caught.value.problems == [
        (3, "email alice@example.com repeats line 2"),
        (4, "email alice@example.com repeats line 2"),
        (5, "slack_user_id U0ALICE01 repeats line 2"),
        (6, "slack_user_id U0ALICE01 repeats line 2"),
    ]


def test_a_bad_line_does_not_count_as_the_first_use_of_its_id() -> None:
    rows = [
        (2, row(name="")),
        (3, row()),
        (4, row()),
    ]
    with pytest.raises(DirectoryError) as caught:
        parse_rows(rows)
    assert caught.value.problems == [(2, "name is empty"), (4, "slack_user_id U0ALICE01 repeats line 3")]


def test_parse_rows_reports_surplus_cells() -> None:
    surplus = {**row(), None: "extra"}  # how csv.DictReader stores cells beyond the header
    with pytest.raises(DirectoryError) as caught:
        parse_rows([(7, surplus)])  # type: ignore[list-item]
    assert caught.value.problems == [(7, "more cells than the header has columns")]


def test_directory_error_is_a_value_error() -> None:
    assert issubclass(DirectoryError, ValueError)


# --- characters no database stores -----------------------------------------------------------------


def test_cells_lose_nul_and_escape_characters() -> None:
    person = parse_row(
        row(
            name="\x1b[31mAlice\x00 Chen\x1b[0m",
            department="Re\x00search\x7f",
            email="alice\x00@example.com",
            slack_user_id="U0ALICE01\x00",
            roles="model-owner\x1b;export-compliance",
        )
    )
    assert person.name == "[31mAlice Chen[0m"
    assert person.department == "Research"
    assert person.email == "alice@example.com"
    assert person.slack_user_id == "U0ALICE01"
    assert person.roles == frozenset({"model-owner", "export-compliance"})


@pytest.mark.parametrize("value", ["\x00", "\x1b\x07", " \x00 \x9b "])
def test_a_name_of_only_control_characters_is_empty(value: str) -> None:
    assert problem(name=value) == "name is empty"


@pytest.mark.parametrize("column", ["manager_email", "department", "work_country", "citizenships", "roles"])
def test_an_optional_cell_of_only_control_characters_is_unknown(column: str) -> None:
    person = parse_row(row(**{column: "\x00\x1b"}))
    assert getattr(person, column) in (None, frozenset())


def test_a_required_id_of_only_control_characters_is_empty() -> None:
    assert problem(slack_user_id="\x00\x00") == "slack_user_id is empty"


def test_the_length_limit_counts_what_is_stored() -> None:
    assert parse_row(row(name="N" * MAX_NAME + "\x00" * 10)).name == "N" * MAX_NAME


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text("  a\x00b\r\nc  ") == "ab\nc"


@pytest.mark.parametrize("value", ["U0ALICE01\n", "U0ALICE01 ", "xU0ALICE01"])
def test_is_slack_user_id_takes_the_whole_text(value: str) -> None:
    assert not is_slack_user_id(value)


def test_is_email_takes_the_whole_text() -> None:
    assert not is_email("alice@example.com\n")
