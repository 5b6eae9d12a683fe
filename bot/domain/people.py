"""People as the directory knows them, and the rules for reading the directory CSV."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.countries import country_problem
from bot.domain.text import clean_text

CSV_COLUMNS = (
    "slack_user_id",
    "email",
    "name",
    "manager_email",
    "department",
    "work_country",
    "citizenships",
    "us_person",
    "roles",
)
REQUIRED_COLUMNS = ("slack_user_id", "email", "name")

# Matched with fullmatch: `$` would also accept a trailing line feed.
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_ROLE = re.compile(r"[a-z][a-z0-9-]{0,62}")
MAX_NAME = 200


@dataclass(frozen=True)
class Person:
    slack_user_id: str
    email: str
    name: str
    manager_email: str | None = None
    department: str | None = None
    work_country: str | None = None
    citizenships: frozenset[str] = field(default_factory=frozenset)
    # None means unknown, and unknown never passes a US-person check.
    us_person: bool | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, role: str) -> bool:
        return role in self.roles


class FileProblems(ValueError):
    """A file that cannot be imported (nothing of it was); `problems` lists (line, message), line 0
    for the file as a whole."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        super().__init__("; ".join(f"line {line}: {message}" for line, message in problems))


class DirectoryError(FileProblems):
    """A directory file that cannot be imported."""


def is_slack_user_id(text: str) -> bool:
    """Whether the whole text is a Slack user ID: U or W, then 2 to 20 capitals or digits."""
    return bool(_SLACK_USER_ID.fullmatch(text))


def is_email(text: str) -> bool:
    """Whether the whole text looks like one email address (no spaces, no angle brackets)."""
    return bool(_EMAIL.fullmatch(text))


def cell_text(value: str | None) -> str:
    """A directory CSV cell as it is read: missing is empty, characters no database stores are dropped
    (clean_text: a NUL must not work on SQLite and fail on PostgreSQL), then spaces around it go. A cell
    of nothing but control characters is therefore empty, like a blank one."""
    return clean_text(value or "").strip()


def check_header(
    columns: Iterable[str],
    expected: tuple[str, ...] = CSV_COLUMNS,
    required: tuple[str, ...] = REQUIRED_COLUMNS,
) -> list[str]:
    """Problems with a CSV header (missing required columns, unknown or repeated columns); the
    directory's columns unless `expected` and `required` say otherwise."""
    seen = [c.strip() for c in columns]
    problems = []
    missing = [c for c in required if c not in seen]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in seen if c not in expected]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}; expected {', '.join(expected)}")
    repeated = sorted({c for c in seen if seen.count(c) > 1})
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    return problems


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def parse_row(row: Mapping[str, str | None]) -> Person:
    """One CSV row (column -> text, as csv.DictReader gives it) to a Person; every cell goes through
    cell_text first. Raises ValueError naming the column and the problem."""

    # Header cells may carry spaces ("slack_user_id, email"); check_header accepts them, so match here too.
    row = {key.strip(): value for key, value in row.items() if key is not None}

    def text(column: str) -> str:
        return cell_text(row.get(column))

    user_id = text("slack_user_id")
    if not user_id:
        raise ValueError("slack_user_id is empty")
    if not is_slack_user_id(user_id):
        raise ValueError(f"slack_user_id '{user_id}' is not a Slack user ID (like U024BE7LH)")
    email = text("email").lower()
    if not is_email(email):
        raise ValueError(f"email '{text('email')}' is not an email address")
    name = text("name")
    if not name:
        raise ValueError("name is empty")
    if len(name) > MAX_NAME:
        raise ValueError(f"name is longer than {MAX_NAME} characters")
    manager_email = text("manager_email").lower() or None
    if manager_email and not is_email(manager_email):
        raise ValueError(f"manager_email '{text('manager_email')}' is not an email address")
    if manager_email == email:
        raise ValueError("manager_email is the person's own email")
    work_country = text("work_country") or None
    if work_country and (problem := country_problem(work_country)):
        raise ValueError(f"work_country {problem}")
    citizenships = _split(text("citizenships"))
    for code in citizenships:
        if problem := country_problem(code):
            raise ValueError(f"citizenships {problem}")
    us_person_text = text("us_person").lower()
    if us_person_text not in ("", "yes", "no"):
        raise ValueError(f"us_person must be yes, no or empty (unknown), not '{text('us_person')}'")
    us_person = None if not us_person_text else us_person_text == "yes"
    roles = _split(text("roles"))
    for role in roles:
        if not _ROLE.fullmatch(role):
            raise ValueError(f"role '{role}' must be lower-case letters, digits and dashes")
    return Person(
        slack_user_id=user_id,
        email=email,
        name=name,
        manager_email=manager_email,
        department=text("department") or None,
        work_country=work_country,
        citizenships=frozenset(citizenships),
        us_person=us_person,
        roles=frozenset(roles),
    )


def parse_rows(rows: Iterable[tuple[int, Mapping[str, str | None]]]) -> list[Person]:
    """Every row or none: raises DirectoryError listing each bad line (with its line number)."""
    people: list[Person] = []
    problems: list[tuple[int, str]] = []
    first_line_of_id: dict[str, int] = {}
    first_line_of_email: dict[str, int] = {}
    for line, row in rows:
        if None in row:  # csv.DictReader puts surplus cells under the key None
            problems.append((line, "more cells than the header has columns"))
            continue
        try:
            person = parse_row(row)
        except ValueError as error:
            problems.append((line, str(error)))
            continue
        if person.slack_user_id in first_line_of_id:
            problems.append(
                (
                    line,
                    f"slack_user_id {person.slack_user_id} repeats line "
                    f"{first_line_of_id[person.slack_user_id]}",
                )
            )
            continue
        if person.email in first_line_of_email:
            problems.append((line, f"email {person.email} repeats line {first_line_of_email[person.email]}"))
            continue
        first_line_of_id[person.slack_user_id] = line
        first_line_of_email[person.email] = line
        people.append(person)
    if problems:
        raise DirectoryError(problems)
    return people
