"""The gateway decision: may this caller use this model now? (POST /v1/access/check, bot/api.py)

Every check reads the current state: the caller's key, the grant, and the entitlement rule
(bot/domain/entitlement.py) evaluated now, so a suspension, revocation, expiry, departure or Slack
deactivation is effective on the very next check, even before the re-check or the expiry job has
updated the grant. An active grant the rule refuses is denied (fail closed).

Denials are audited (`gateway.denied`), but the same denial (caller, model, code) at most once per
DENIAL_AUDIT_WINDOW, so that a client retrying in a loop cannot flood the audit log; every check is
counted in bot/metrics.py. Checks leave two marks, each written at most once a minute per key or grant:
when a key was last used, and when a grant was last checked and with what answer (what `grants list`
shows; a changed answer is written at once).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.domain.entitlement import Hold, describe, refusal_reasons
from bot.domain.gateway import CheckBody, Code, Decision, deny, read_body
from bot.domain.keys import digest, well_formed
from bot.domain.licences import utc_day
from bot.domain.status import GrantStatus
from bot.metrics import GATEWAY_CHECKS, GATEWAY_DENIALS_AUDITED
from bot.services.context import Context
from bot.services.restrictions import restrictions_for
from bot.store import audit
from bot.store import requests as grants
from bot.store.directory import find_person
from bot.store.entitlement import load_standing
from bot.store.holds import open_holds
from bot.store.keys import key_by_digest, mark_checked, mark_key_used
from bot.store.locks import one_at_a_time
from bot.store.tables import AuditEvent

log = logging.getLogger(__name__)

ACTOR = "gateway"
DENIED = "gateway.denied"
DENIAL_AUDIT_WINDOW = timedelta(minutes=5)
MARK_EVERY = timedelta(minutes=1)
_MARKS_KEPT = 100_000


class Gateway:
    """Answers gateway checks for one process. Thread-safe: the HTTP server calls it from many threads."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        # (kind, id) -> when this process last wrote the mark, and the answer it recorded (grants).
        self._marked: dict[tuple[str, int], tuple[datetime, bool | None]] = {}
        self._guard = threading.Lock()

    def check(self, payload: Any) -> Decision:
        """The answer to a parsed JSON body (any JSON value: a malformed one is denied, never raised)."""
        body = read_body(payload)
        return self.malformed(body) if isinstance(body, str) else self._answer(body)

    def malformed(self, problem: str) -> Decision:
        """The denial of a body that is not a check (`problem` says why, in one line); counted and
        audited like every denial."""
        decision = deny(Code.MALFORMED, f"This is not a check AccessBot can answer: {problem}.")
        GATEWAY_CHECKS.labels(allow="false", code=decision.code.value).inc()
        self._leave_marks(decision, None, self.ctx.clock(), None)
        return decision

    def _answer(self, body: CheckBody) -> Decision:
        now = self.ctx.clock()
        with self.ctx.read() as session:
            decision, key_id = self._decide(session, body, now)
        GATEWAY_CHECKS.labels(allow=str(decision.allow).lower(), code=decision.code.value).inc()
        self._leave_marks(decision, key_id, now, body)
        return decision

    def _decide(self, session: Session, body: CheckBody, now: datetime) -> tuple[Decision, int | None]:
        key_id = None
        if body.key is not None:
            key = key_by_digest(session, digest(body.key)) if well_formed(body.key) else None
            if key is None:
                return deny(Code.UNKNOWN_KEY, "AccessBot knows no such personal key."), None
            if key.revoked_at is not None:
                return deny(
                    Code.REVOKED_KEY,
                    "This personal key was revoked; make a new one with `/access key` in Slack.",
                    user=key.user_id,
                ), None
            user_id, key_id = key.user_id, key.id
        else:
            person = find_person(session, body.user or "")
            if person is None:
                return deny(
                    Code.UNKNOWN_USER, "No one in the AccessBot directory has that user ID or e-mail."
                ), None
            user_id = person.slack_user_id
        model = self.ctx.catalog.gateway_model(body.model)
        if model is None:
            return deny(
                Code.UNKNOWN_MODEL, "AccessBot's catalog has no model by that name.", user=user_id
            ), key_id
        about: dict[str, Any] = {"user": user_id, "model": model.slug}
        grant = grants.latest_grant(session, user_id, model.slug)
        asking = f"request it in Slack with `/access request {model.slug} <why you need it>`"
        if grant is None or grant.status == GrantStatus.REVOKED:
            ended = "was revoked" if grant is not None else "does not exist"
            return deny(Code.NO_GRANT, f"Your access to {model.name} {ended}; {asking}.", **about), key_id
        about.update(grant_id=grant.id, expires_at=grant.expires_at)
        if grant.status == GrantStatus.EXPIRED or grant.expires_at <= now:
            return deny(Code.EXPIRED, f"Your access to {model.name} expired; {asking}.", **about), key_id
        if grant.status == GrantStatus.SUSPENDED:
            holds = open_holds(session, [grant.id or 0])[grant.id or 0]
            why = "; ".join(describe(reason, model.name) for reason in holds) or "it is held"
            return deny(Code.SUSPENDED, f"Your access to {model.name} is suspended: {why}.", **about), key_id
        standing = load_standing(session, user_id)
        confirmed = frozenset(Hold(h) for h in grants.confirmed_holds(session, grant.id or 0))
        reasons = refusal_reasons(
            standing,
            model,
            embargoed=self.ctx.catalog.policy.embargoed_countries,
            directives=[r.rule for r in restrictions_for(session, model, now)],
            confirmed=confirmed,
            on=utc_day(now),
        )
        if reasons:
            why = "; ".join(describe(reason, model.name) for reason in reasons)
            return deny(Code.REFUSED, f"You may not use {model.name} now: {why}.", **about), key_id
        until = grant.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        return Decision(
            True, Code.ALLOWED, f"Grant G{grant.id} of {model.name}, until {until}.", **about
        ), key_id

    def _leave_marks(
        self, decision: Decision, key_id: int | None, now: datetime, body: CheckBody | None
    ) -> None:
        """The denial's audit event (unless the same one is recent) and the due marks, in one transaction.
        A failure here never changes the answer: a denial stays a denial."""
        key_due = key_id is not None and self._due(("key", key_id), now)
        grant_due = decision.grant_id is not None and self._due(
            ("grant", decision.grant_id), now, decision.allow
        )
        if decision.allow and not key_due and not grant_due:
            return
        try:
            with self.ctx.uow() as uow:
                session = uow.session
                if not decision.allow and not _recently_audited(session, decision, now):
                    # The same denial from two threads or replicas at once: they take turns and look
                    # again, so that the window holds one event. A denial already audited in the window
                    # (a client retrying in a loop) takes no lock.
                    one_at_a_time(session, _denial_name(decision))
                    if not _recently_audited(session, decision, now):
                        _audit_denial(session, decision, body)
                        GATEWAY_DENIALS_AUDITED.inc()
                if key_due and key_id is not None:
                    mark_key_used(session, [key_id], now)
                if grant_due and decision.grant_id is not None:
                    mark_checked(session, [(decision.grant_id, decision.allow)], now)
                uow.commit()
        except Exception:
            log.exception("could not record a gateway check (code %s)", decision.code.value)
            with self._guard:  # try again on the next check
                self._marked.pop(("key", key_id or 0), None)
                self._marked.pop(("grant", decision.grant_id or 0), None)

    def _due(self, mark: tuple[str, int], now: datetime, answer: bool | None = None) -> bool:
        """Whether to write `mark` now: a minute since this process last did, or a different answer (a
        grant's record must show the answer actually given, not one from before a suspension)."""
        with self._guard:
            last = self._marked.get(mark)
            if last is not None and now - last[0] < MARK_EVERY and last[1] == answer:
                return False
            if len(self._marked) >= _MARKS_KEPT:
                self._marked.clear()
            self._marked[mark] = (now, answer)
            return True


def _subject(decision: Decision) -> tuple[str, str]:
    """Whom a denial is filed under: the grant, else the person, else one shared subject per code (an
    unknown key or user, a malformed body), so that invented callers cannot flood the log either."""
    if decision.grant_id is not None:
        return "grant", str(decision.grant_id)
    if decision.user is not None:
        return "person", decision.user
    return "gateway", decision.code.value


def _denial_name(decision: Decision) -> str:
    """What two checks of the same denial (whom it is filed under, code, model) share."""
    subject_type, subject_id = _subject(decision)
    return f"{DENIED}|{subject_type}|{subject_id}|{decision.code.value}|{decision.model}"


def _recently_audited(session: Session, decision: Decision, now: datetime) -> bool:
    subject_type, subject_id = _subject(decision)
    rows = session.exec(
        select(AuditEvent.detail).where(
            AuditEvent.action == DENIED,
            AuditEvent.subject_type == subject_type,
            AuditEvent.subject_id == subject_id,
            col(AuditEvent.at) > now - DENIAL_AUDIT_WINDOW,
        )
    ).all()
    return any(
        (detail or {}).get("code") == decision.code.value and (detail or {}).get("model") == decision.model
        for detail in rows
    )


def _audit_denial(session: Session, decision: Decision, body: CheckBody | None) -> None:
    subject_type, subject_id = _subject(decision)
    detail: dict[str, Any] = {"code": decision.code.value, "model": decision.model}
    if body is not None:
        detail["caller"] = "key" if body.key is not None else "user"
    audit.record(
        session, actor=ACTOR, action=DENIED, subject_type=subject_type, subject_id=subject_id, detail=detail
    )
