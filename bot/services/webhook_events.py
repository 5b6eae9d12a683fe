"""Webhook events about licences and directives, recorded by the use case that changes them, in its
transaction. Each carries the record scripts read from `licence list --json` or `directive list --json`,
as it is after the change. Grant events are recorded where grants change, set-based
(bot/store/webhooks.py grant_events)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from bot.present.directive_records import DirectiveRecord
from bot.present.records import LicenceRecord
from bot.store import licences as licence_rows
from bot.store import webhooks
from bot.store.db import now_of
from bot.store.tables import Directive


def licence_event(session: Session, event_type: str, licence_id: int, *, actor: str) -> None:
    """Record `event_type` (licence.recorded, .updated, .revoked, .expired) for the licence as it is now."""
    if not webhooks.routes_of(session).get(event_type):
        return  # nobody subscribes: spare reading the licence
    session.flush()
    stored = licence_rows.find_licence(session, licence_id, grants=True)
    if stored is None:
        return
    webhooks.subject_event(
        session, event_type, webhooks.LICENCE, licence_id, now=now_of(session), actor=actor,
        data={"licence": LicenceRecord.of(stored).as_json()},
    )  # fmt: skip


def directive_event(
    session: Session, event_type: str, directive: Directive, models: Sequence[str], *, actor: str
) -> None:
    """Record `event_type` (directive.issued, .activated, .lifted) for the directive as it is now."""
    webhooks.subject_event(
        session, event_type, webhooks.DIRECTIVE, directive.id or 0, now=now_of(session), actor=actor,
        data={"directive": DirectiveRecord.of(directive, models).as_json()},
    )  # fmt: skip
