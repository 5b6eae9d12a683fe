"""Export licences for people reading Slack: the `/licence` form's choices, `/licence list`, and what
recording or revoking a licence changed.

Template data is plain JSON-safe values (dates as YYYY-MM-DD strings), so that a list can wait in the
outbox when the answer is slow; the templates escape every stored text for mrkdwn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from bot.domain.catalog import Catalog
from bot.domain.licences import MAX_AUTHORITY, MAX_CONDITIONS, MAX_NUMBER, LicenceKind, label
from bot.domain.status import LicenceStatus
from bot.present.replies import Notice, Person
from bot.store.licences import StoredLicence
from bot.store.tables import Licence as LicenceRow

# Newest first, at most this many licences in `/licence list`: one section each, with the header and
# the footer well inside Slack's 50 blocks per message.
LIST_MAX = 40
# The countries field: every ISO 3166-1 alpha-2 code (249) separated by `;` fits in 1,000 characters.
COUNTRIES_MAX = 1000

# Option labels (75 characters at most): what the authority licensed, in the words of the EAR.
KIND_LABELS: dict[LicenceKind, str] = {
    LicenceKind.EXPORT: "Export (from the United States)",
    LicenceKind.RE_EXPORT: "Re-export (from one foreign country to another)",
    LicenceKind.IN_COUNTRY_TRANSFER: "In-country transfer (within a foreign country)",
    LicenceKind.DEEMED_EXPORT: "Deemed export (release to a foreign national)",
}


class RecheckCounts(Protocol):
    """What a re-check changed (bot/services/recheck.py RecheckResult), as this module reads it."""

    @property
    def suspended(self) -> int: ...

    @property
    def reinstated(self) -> int: ...

    @property
    def requests_stopped(self) -> int: ...


def licence_form_data(catalog: Catalog) -> dict[str, Any]:
    """Data for templates/licence_modal.json.j2: the catalog's models by name (the form searches them
    when there are more than a static menu holds), the four kinds, and the fields' length limits."""
    models = sorted(catalog.models.values(), key=lambda m: m.name.lower())
    return {
        "models": [{"slug": m.slug, "name": m.name} for m in models],
        "kinds": [{"value": kind.value, "label": KIND_LABELS[kind]} for kind in LicenceKind],
        "limits": {
            "number": MAX_NUMBER,
            "authority": MAX_AUTHORITY,
            "countries": COUNTRIES_MAX,
            "conditions": MAX_CONDITIONS,
        },
    }


def _status(record: StoredLicence, today: date) -> str:
    row = record.row
    if row.status == LicenceStatus.ACTIVE and row.valid_from > today:
        return "active, not in effect yet"
    return str(row.status)


def licence_entry(record: StoredLicence, today: date) -> dict[str, Any]:
    """One licence as the list shows it; `status` says when an active one is not in effect yet."""
    row = record.row
    return {
        "label": label(row.id or 0),
        "number": row.number,
        "authority": row.authority,
        "kind": str(row.kind),
        "holder": row.holder_id,
        "models": list(record.models),
        "countries": list(record.countries),
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat(),
        "state": str(row.status),
        "status": _status(record, today),
    }


def licence_list_data(found: Sequence[StoredLicence], *, holder: str | None, today: date) -> dict[str, Any]:
    """Data for templates/licence_list.json.j2: the newest LIST_MAX of `found` (licences by id), how
    many there are in all, and whose they are (`holder`, None for everyone's)."""
    newest = sorted(found, key=lambda record: record.row.id or 0, reverse=True)[:LIST_MAX]
    return {
        "licences": [licence_entry(record, today) for record in newest],
        "total": len(found),
        "holder": holder,
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def recheck_words(result: RecheckCounts) -> str:
    """What the re-check that came with a licence change did to grants and pending requests."""
    changed = [
        f"{_count(result.suspended, 'grant')} suspended" if result.suspended else "",
        f"{_count(result.reinstated, 'grant')} reinstated" if result.reinstated else "",
        f"{_count(result.requests_stopped, 'pending request')} stopped" if result.requests_stopped else "",
    ]
    parts = [part for part in changed if part]
    if not parts:
        return "No grant or pending request changed."
    return "Re-check: " + ", ".join(parts) + ". The people concerned are told by DM."


def _naming(row: LicenceRow) -> dict[str, Any]:
    """The values that name a licence in a notice: `{label}`, `{authority}` and `{number}`."""
    return {"label": label(row.id or 0), "authority": row.authority, "number": row.number}


def recorded_notice(record: StoredLicence, result: RecheckCounts) -> Notice:
    """The answer to the officer who recorded a licence: what is on record now, and what changed."""
    row = record.row
    expired = row.status == LicenceStatus.EXPIRED
    return Notice(
        "Recorded {label} ({authority} {number}, {kind}) held by {holder}: {models} for {countries}, "
        "valid {valid_from} to {valid_until}. "
        + ("Its last day has passed: it is on record as expired and exempts nobody. " if expired else "")
        + recheck_words(result),
        title="Licence recorded",
        tone="success",
        values={
            **_naming(row),
            "kind": str(row.kind),
            "holder": Person(row.holder_id),
            "models": ", ".join(record.models),
            "countries": ";".join(record.countries),
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat(),
        },
    )


def revoked_notice(licence_id: int, result: RecheckCounts) -> Notice:
    """The answer to the officer who revoked a licence: what the re-check changed."""
    return Notice(
        "Revoked {label}. " + recheck_words(result),
        title="Licence revoked",
        tone="success",
        values={"label": label(licence_id)},
    )


def lapse_warning(row: LicenceRow, today: date, to_holder: bool) -> Notice:
    """The warning that a licence will lapse, for its holder or for export compliance."""
    left = row.valid_until.toordinal() - today.toordinal()
    when = "today" if left == 0 else ("tomorrow" if left == 1 else f"in {left} days")
    whose = "Your export licence" if to_holder else "Export licence"
    held = "" if to_holder else " held by {holder}"
    # The holder cannot record a licence (export compliance or an access admin does, never for
    # themselves): they are told whom to send the renewal to, the officers how to record it.
    renewal = (
        "export compliance records a renewal: send them the renewed licence"
        if to_holder
        else "a renewal is recorded (`/licence` or `accessbot licence add`)"
    )
    return Notice(
        f"{whose} {{label}} ({{authority}} {{number}}){held} ends after {{until}}, {when}. Access that "
        f"depends on it will be suspended when it lapses unless {renewal}.",
        title="Licence about to lapse",
        tone="warning",
        values={
            **_naming(row),
            "until": row.valid_until.isoformat(),
            **({} if to_holder else {"holder": Person(row.holder_id)}),
        },
    )
