"""Reading `/access` command text. Pure: no Slack, no database."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain.durations import DurationError, looks_like_duration, parse_duration
from bot.domain.instants import InstantError, parse_instant
from bot.domain.people import is_slack_user_id
from bot.domain.text import clean_text, parse_db_id

SUBCOMMANDS = (
    "request", "status", "models", "cancel", "relinquish", "revoke", "grants", "key", "report", "delegate",
    "breakglass", "help",
)  # fmt: skip
# An optional "#", an optional one-letter kind (R, G, D) and the number. The number is only split off
# here; parse_db_id decides whether it is one (ASCII digits, within the database's integer range).
_ID = re.compile(r"#?([A-Za-z]?)(.+)", re.DOTALL)


class CommandError(ValueError):
    """Text that is not a valid command; the message tells the person what to type instead. It is
    mrkdwn: whatever the person typed is escaped before it goes in."""


@dataclass(frozen=True)
class AccessCommand:
    # form | request | status | models | cancel | relinquish | revoke | grants | help,
    # or key | key_list | key_revoke (personal keys for the AI gateway), report (who could use a model),
    # delegate | delegate_list | delegate_end (handing my approvals to someone while I am away), or
    # breakglass (emergency access, reviewed after the fact)
    action: str
    model: str | None = None
    duration: timedelta | None = None
    justification: str = ""
    target_id: int | None = None
    reason: str = ""
    user_id: str | None = None  # whose grants an admin looks at
    at: datetime | None = None  # the instant a report is about (None: now), or a delegation's end
    role: str | None = None  # the duty a delegation hands over (None: all of them)


def unescape(text: str) -> str:
    """Slack sends command text with &, < and > entity-encoded; keep what the person typed. (It is
    escaped again whenever it is shown.)"""
    return html.unescape(text.replace("&nbsp;", " ")) if "&" in text else text


def parse_id(token: str, prefix: str, noun: str, usage: str) -> int:
    """The number in an id as people write it: `R12`, `r12`, `#R12`, `#12` or `12` (for prefix "R").

    `token` is one word exactly as typed, with nothing trimmed: " 12" is not an id. The number must be
    1 to 10 ASCII digits within the database's integer range (see parse_db_id), so `G\\u0661` (an
    Arabic-Indic one), `G\\uff11` (fullwidth), `G+1`, `G1_000`, `G0` and `G2147483648` are refused.

    Raises CommandError (mrkdwn, the token escaped, ending with the usage line) when the token is not an
    id, or names another kind of id (`G7` where a request is wanted).
    """
    match = _ID.fullmatch(token)
    number = parse_db_id(match.group(2)) if match else None
    if match is None or number is None:
        raise CommandError(f"'{token}' is not a {noun} ID (like {prefix}12). Usage: `{usage}`")
    given = match.group(1).upper()
    if given and given != prefix:
        other = {"R": "request", "G": "grant", "D": "directive", "K": "key"}.get(given, "different kind of")
        raise CommandError(
            f"{token} is a {other} ID; this needs a {noun} ID like {prefix}12. Usage: `{usage}`"
        )
    return number


def _free_text(rest: list[str]) -> str:
    """The free text after the words a command reads (a reason, a justification), as it will be stored:
    cleaned of characters no database keeps (see clean_text), then trimmed; "" when there is none."""
    return clean_text(rest[0]).strip() if rest else ""


def parse_access(text: str) -> AccessCommand:
    words = unescape(text).strip().split(None, 1)
    if not words:
        return AccessCommand("form")
    head, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if head in ("help", "?", "-h", "--help"):
        return AccessCommand("help")
    if head in ("status", "mine", "me"):
        return AccessCommand("status")
    if head in ("models", "catalog", "list"):
        return AccessCommand("models")
    if head == "request":
        return _parse_request(rest)
    if head == "cancel":
        if not rest:
            raise CommandError("Which request? Usage: `/access cancel R12` (`/access status` lists yours).")
        return AccessCommand(
            "cancel", target_id=parse_id(rest.split()[0], "R", "request", "/access cancel R12")
        )
    if head == "relinquish":
        if not rest:
            raise CommandError("Which grant? Usage: `/access relinquish G7` (`/access status` lists yours).")
        return AccessCommand(
            "relinquish", target_id=parse_id(rest.split()[0], "G", "grant", "/access relinquish G7")
        )
    if head == "grants":
        # "@name" arrives as <@U123|name> (the command escapes mentions) or is typed as an ID.
        target = _mentioned(rest.split()[0]) if rest else ""
        if not is_slack_user_id(target):
            raise CommandError("Whose? Usage: `/access grants @person` (access admins).")
        return AccessCommand("grants", user_id=target)
    if head == "revoke":
        parts = rest.split(None, 1)
        if not parts:
            raise CommandError("Usage: `/access revoke G7 <reason>` (the holder is told the reason).")
        grant_id = parse_id(parts[0], "G", "grant", "/access revoke G7 <reason>")
        return AccessCommand("revoke", target_id=grant_id, reason=_free_text(parts[1:]))
    if head in ("key", "keys"):
        return _parse_key(rest)
    if head == "report":
        return _parse_report(rest)
    if head in ("delegate", "delegation", "delegations"):
        return _parse_delegate(rest)
    if head in ("breakglass", "break-glass"):
        parts = rest.split(None, 1)
        if not parts:
            raise CommandError("Usage: `/access breakglass <model> <what the emergency is>` (where allowed).")
        return AccessCommand("breakglass", model=parts[0].lower(), justification=_free_text(parts[1:]))
    close = difflib.get_close_matches(head, SUBCOMMANDS, n=1, cutoff=0.6)
    hint = f" Did you mean `/access {close[0]}`?" if close else ""
    raise CommandError(f"I don't know `/access {head[:40]}`.{hint} `/access help` lists what I can do.")


KEY_USAGE = "`/access key` (a new personal key), `/access key list`, `/access key revoke K3 [reason]`"


def _parse_key(rest: str) -> AccessCommand:
    parts = rest.split(None, 1)
    sub = parts[0].lower() if parts else "new"
    if sub == "new" and len(parts) < 2:
        return AccessCommand("key")
    if sub == "list" and len(parts) < 2:
        return AccessCommand("key_list")
    if sub == "revoke":
        words = parts[1].split(None, 1) if len(parts) > 1 else []
        if not words:
            raise CommandError(
                "Which key? Usage: `/access key revoke K3 [reason]` (`/access key list` lists yours)."
            )
        key_id = parse_id(words[0], "K", "key", "/access key revoke K3 [reason]")
        return AccessCommand("key_revoke", target_id=key_id, reason=_free_text(words[1:]))
    raise CommandError(f"Usage: {KEY_USAGE}.")


REPORT_USAGE = "/access report <model> [time, like 2026-11-27T09:00Z]"


def _parse_report(rest: str) -> AccessCommand:
    """`report <model> [time]`: who could use the model at that instant (ISO 8601 with its zone; now
    when left out)."""
    parts = rest.split()
    if not parts or len(parts) > 2:
        raise CommandError(f"Usage: `{REPORT_USAGE}` (access admins; `/access models` lists the models).")
    at = None
    if len(parts) == 2:
        try:
            at = parse_instant(parts[1])
        except InstantError as error:
            raise CommandError(f"'{parts[1][:60]}' {error}. Usage: `{REPORT_USAGE}`") from None
    return AccessCommand("report", model=parts[0].lower(), at=at)


DELEGATE_USAGE = (
    "`/access delegate @person until 2026-12-24 [role]` (your approvals, or one role's, while you are "
    "away), `/access delegate list`, `/access delegate end @person`"
)


def _parse_delegate(rest: str) -> AccessCommand:
    """`delegate @person until <date or time> [role]`, `delegate list`, `delegate end @person`. A date
    alone means until the end of that day (UTC)."""
    words = rest.split()
    if words in ([], ["list"]):
        return AccessCommand("delegate_list")
    if words[0].lower() == "end":
        target = _mentioned(words[1]) if len(words) == 2 else ""
        if not is_slack_user_id(target):
            raise CommandError(f"Whose delegation? Usage: {DELEGATE_USAGE}.")
        return AccessCommand("delegate_end", user_id=target)
    target = _mentioned(words[0])
    if not is_slack_user_id(target) or len(words) not in (3, 4) or words[1].lower() != "until":
        raise CommandError(f"Usage: {DELEGATE_USAGE}.")
    ends = _delegation_end(words[2])
    # `all` (or nothing) hands over every duty.
    role = words[3].lower() if len(words) == 4 and words[3].lower() != "all" else None
    return AccessCommand("delegate", user_id=target, at=ends, role=role)


def _mentioned(word: str) -> str:
    """The user ID in a mention as Slack escapes it (`<@U123|name>`), or as typed."""
    return word.strip("<>@").split("|")[0]


def _delegation_end(text: str) -> datetime:
    """`2026-12-24` (through that day, UTC) or an ISO 8601 time with its zone. Raises CommandError."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        if day >= date.max - timedelta(days=1):
            raise CommandError(f"'{text[:60]}' is too far away: a delegation lasts 180 days at most.")
        return datetime.combine(day + timedelta(days=1), time(), UTC)
    try:
        return parse_instant(text)
    except InstantError as error:
        raise CommandError(
            f"'{text[:60]}' {error}, or a date like 2026-12-24. Usage: {DELEGATE_USAGE}."
        ) from None


# A number with a fractional part: "1.5", ",5", "1½".
_FRACTION = re.compile(r"^\d*([.,]\d+|[½¼¾⅓⅔⅛])")
# What may follow a duration before the reason: "2 weeks, for the launch".
_TRAILING = ",;:.!"


def _leading_duration(text: str, usage: str) -> tuple[timedelta | None, str]:
    """The duration `/access request`'s text starts with, if any, and the rest (the justification).

    A first word like "7d" or "2weeks", or a number and a unit word apart ("2 weeks", "30 min"), is the
    duration, punctuation after it aside ("2 weeks, for…"); "7x" is a mistyped one, and "1.5d" or
    "1.5 days" a fraction nobody can be granted (CommandError for both). Capitals mean a word of the
    justification ("3D rendering", "2FA rollout"), and so does a number before a one-letter word ("3 m
    tokens").
    """
    words = text.split(None, 2)
    if not words:
        return None, text
    number = words[0]
    unit = words[1].rstrip(_TRAILING) if len(words) > 1 else ""
    fraction = _FRACTION.match(number) is not None
    apart = (
        len(unit) > 1
        and looks_like_duration(f"1 {unit}")
        and (
            (number.isascii() and number.isdigit() and unit.islower())
            or _FRACTION.fullmatch(number) is not None
        )
    )
    if apart:
        written, rest = f"{number} {unit}", words[2:]  # "2 weeks", "1.5 days"
    else:
        written, rest = words[0].rstrip(_TRAILING), [" ".join(words[1:])]
        fraction = fraction and looks_like_duration(_FRACTION.sub("1", written))
        if not (written.islower() or fraction):
            return None, text
    if fraction and looks_like_duration(_FRACTION.sub("1", written)):
        raise CommandError(f"'{written}' is not a duration: use whole numbers, like 36h. Usage: `{usage}`")
    if not (apart or looks_like_duration(written) or re.match(r"^\d+[a-z]$", written)):
        return None, text
    if not (written.isascii() and looks_like_duration(written)):
        raise CommandError(f"'{written}' is not a duration; write 30m, 8h, 7d or 2w. Usage: `{usage}`")
    try:
        return parse_duration(written), " ".join(rest).strip()
    except DurationError as error:
        raise CommandError(f"{error}. Usage: `{usage}`") from None


def _parse_request(rest: str) -> AccessCommand:
    usage = "/access request <model> [duration] <why you need it>"
    parts = rest.split(None, 1)
    if not parts:
        raise CommandError(f"Which model? Usage: `{usage}` (`/access models` lists them).")
    model = parts[0].lower()
    remainder = parts[1].strip() if len(parts) > 1 else ""
    duration, remainder = _leading_duration(remainder, usage)
    return AccessCommand("request", model=model, duration=duration, justification=_free_text([remainder]))


@dataclass(frozen=True)
class DirectiveCommand:
    action: str  # form | list | lift | report | help
    target_id: int | None = None
    reason: str = ""


def parse_directive(text: str) -> DirectiveCommand:
    words = unescape(text).strip().split(None, 1)
    if not words:
        return DirectiveCommand("form")
    head, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if head in ("help", "?", "-h", "--help"):
        return DirectiveCommand("help")
    if head in ("list", "ls"):
        return DirectiveCommand("list")
    if head in ("lift", "report"):
        parts = rest.split(None, 1)
        usage = f"/directive {head} D3" + (" [reason]" if head == "lift" else "")
        if not parts:
            raise CommandError(f"Which directive? Usage: `{usage}` (`/directive list` shows them).")
        directive_id = parse_id(parts[0], "D", "directive", usage)
        return DirectiveCommand(head, target_id=directive_id, reason=_free_text(parts[1:]))
    close = difflib.get_close_matches(head, ("list", "lift", "report", "help"), n=1, cutoff=0.6)
    hint = f" Did you mean `/directive {close[0]}`?" if close else ""
    raise CommandError(f"I don't know `/directive {head[:40]}`.{hint} `/directive help` lists what I can do.")


LICENCE_SUBCOMMANDS = ("add", "list", "revoke", "help")
LICENCE_REVOKE_USAGE = "/licence revoke L3 <reason>"


@dataclass(frozen=True)
class LicenceCommand:
    action: str  # form | list | revoke | help
    target_id: int | None = None
    reason: str = ""
    holder_id: str | None = None  # whose licences `list` shows (None: everyone's)
    unknown: str = ""  # for help: the subcommand typed that is not one (as typed, at most 40 characters)
    suggestion: str = ""  # for help: the subcommand it is closest to, if any


def parse_licence(text: str) -> LicenceCommand:
    """`/licence [add | list [@person] | revoke L3 <reason> | help]`. An unknown subcommand is answered
    with the help (and the subcommand it is closest to). Raises CommandError for a list of someone who
    is not a mention or a user ID, and a revoke without a licence ID or a reason."""
    words = unescape(text).strip().split(None, 1)
    if not words:
        return LicenceCommand("form")
    head, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if head in ("add", "new", "record"):
        return LicenceCommand("form")
    if head in ("help", "?", "-h", "--help"):
        return LicenceCommand("help")
    if head in ("list", "ls"):
        if not rest:
            return LicenceCommand("list")
        # "@name" arrives as <@U123|name> (the command escapes mentions) or is typed as an ID.
        target = rest.split()[0].strip("<>@").split("|")[0]
        if not is_slack_user_id(target):
            raise CommandError("Whose? Usage: `/licence list` (all) or `/licence list @person`.")
        return LicenceCommand("list", holder_id=target)
    if head == "revoke":
        parts = rest.split(None, 1)
        if not parts:
            raise CommandError(
                f"Which licence? Usage: `{LICENCE_REVOKE_USAGE}` (`/licence list` shows them)."
            )
        licence_id = parse_id(parts[0], "L", "licence", LICENCE_REVOKE_USAGE)
        reason = _free_text(parts[1:])
        if not reason:
            # The reason is the record of why access that depended on the licence stopped.
            raise CommandError(
                f"Say why L{licence_id} is revoked. Usage: `{LICENCE_REVOKE_USAGE}` "
                "(the reason is kept in the audit trail)."
            )
        return LicenceCommand("revoke", target_id=licence_id, reason=reason)
    close = difflib.get_close_matches(head, LICENCE_SUBCOMMANDS, n=1, cutoff=0.6)
    return LicenceCommand("help", unknown=head[:40], suggestion=close[0] if close else "")
