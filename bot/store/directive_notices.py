"""A directive's announcements: who each one goes to, the phase it belongs to, and how its delivery is
going.

Each announcement (a warning, the activation, the lifting or a withdrawal) is recorded as a
DirectiveBroadcast row naming its phase and the outbox group its messages carry; progress and reports
find a notice's phase through that row, never by reading the group key.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    null,
    union,
)
from sqlmodel import Session, col, select

from bot.domain.recipient import is_user_id
from bot.domain.status import DirectivePhase, OutboxKind, OutboxStatus
from bot.store.tables import (
    AccessRequest,
    DirectiveBroadcast,
    GrantSuspension,
    HomeTab,
    OutboxMessage,
    Person,
)

People = Select[Any] | CompoundSelect
# The composer of a person's notice of an announcement (bot/notify/compose.py), named in its payload.
NOTICE_COMPOSER = "directive_notice"


def group_key(directive_id: int, phase: DirectivePhase) -> str:
    """The outbox group of one announcement (shown by `accessbot outbox list`); an activation's group is
    the directive's own, "directive:<id>"."""
    if phase == DirectivePhase.ACTIVATION:
        return f"directive:{directive_id}"
    return f"directive:{directive_id}:{phase}"


def record_broadcast(session: Session, directive_id: int, phase: DirectivePhase, now: datetime) -> str:
    """Record that this announcement is being queued now; returns the outbox group its messages carry."""
    group = group_key(directive_id, phase)
    session.add(DirectiveBroadcast(directive_id=directive_id, phase=phase, group_key=group, queued_at=now))
    session.flush()
    return group


# -- recipients ----------------------------------------------------------------------------------------


def _suspended_people(directive_id: int) -> Select[Any]:
    return select(col(GrantSuspension.user_id).label("user_id")).where(
        GrantSuspension.directive_id == directive_id
    )


def _refused_requesters(directive_id: int) -> Select[Any]:
    return select(col(AccessRequest.requester_id).label("user_id")).where(
        AccessRequest.directive_id == directive_id
    )


def touched_people(directive_id: int) -> CompoundSelect:
    """A SELECT of `user_id`: everyone whose grant the directive suspended or whose request it stopped
    or denied; those its lifting speaks to."""
    return union(_suspended_people(directive_id), _refused_requesters(directive_id))


def warned_people(directive_id: int) -> Select[Any]:
    """A SELECT of `user_id`: the people the directive's advance warning was queued for (the DMs of its
    WARNING announcement, not its channel posts); those its withdrawal speaks to."""
    return select(col(OutboxMessage.address).label("user_id")).where(
        OutboxMessage.group_key == group_key(directive_id, DirectivePhase.WARNING),
        OutboxMessage.kind == OutboxKind.POST,
        OutboxMessage.payload["compose"].as_string() == NOTICE_COMPOSER,
    )


def notice_rows(people: People, *, ask_slack_about_strangers: bool) -> Select[Any]:
    """Outbox rows (`lane`, `address`, `ref_id`, `check_account`) of one DM to each of `people`. With
    `ask_slack_about_strangers`, Slack is asked about anyone missing from the directory before their DM,
    so that an id nobody has is reported as not notified (user_not_found) rather than as sent."""
    who = people.subquery()
    return select(
        who.c.user_id.label("lane"),
        who.c.user_id.label("address"),
        cast(null(), Integer).label("ref_id"),
        and_(
            literal(ask_slack_about_strangers, Boolean),
            ~exists().where(Person.slack_user_id == who.c.user_id),
        ).label("check_account"),
    )


def home_rows(people: People) -> Select[Any]:
    """Outbox rows (`lane`, `address`, `ref_id`) publishing the App Home of each of `people` who has
    opened it, in each person's `home:` lane."""
    who = people.subquery()
    return select(
        (literal("home:", String) + who.c.user_id).label("lane"),
        who.c.user_id.label("address"),
        cast(null(), Integer).label("ref_id"),
    ).join(HomeTab, col(HomeTab.user_id) == who.c.user_id)


# -- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryCounts:
    """Posts of one announcement: how many in all, sent, given up on, and still on the way."""

    total: int
    sent: int
    failed: int
    pending: int

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, "sent": self.sent, "failed": self.failed, "pending": self.pending}


def _posts_of(directive_id: int, phase: DirectivePhase | None = None) -> ColumnElement[bool]:
    """Posts (DMs and channel posts, not updates or App Home views) of the directive's announcements,
    or of one of them."""
    groups = select(DirectiveBroadcast.group_key).where(DirectiveBroadcast.directive_id == directive_id)
    if phase is not None:
        groups = groups.where(DirectiveBroadcast.phase == phase)
    return and_(col(OutboxMessage.group_key).in_(groups), OutboxMessage.kind == OutboxKind.POST)


def delivery_counts(session: Session, directive_id: int, phase: DirectivePhase) -> DeliveryCounts:
    """How the posts of one announcement stand, in one grouped query."""
    rows = session.exec(
        select(OutboxMessage.status, func.count())
        .where(_posts_of(directive_id, phase))
        .group_by(OutboxMessage.status)
    ).all()
    by_status = {status: int(count) for status, count in rows}
    return DeliveryCounts(
        total=sum(by_status.values()),
        sent=by_status.get(OutboxStatus.SENT, 0),
        failed=by_status.get(OutboxStatus.FAILED, 0),
        pending=by_status.get(OutboxStatus.PENDING, 0) + by_status.get(OutboxStatus.SENDING, 0),
    )


def delivery_failures(
    session: Session, directive_id: int, phase: DirectivePhase, limit: int = 20
) -> list[tuple[str, str | None]]:
    """(address, last error) of the first `limit` posts of one announcement that were given up on."""
    rows = session.exec(
        select(OutboxMessage.address, OutboxMessage.last_error)
        .where(_posts_of(directive_id, phase), OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    return [(address, error) for address, error in rows]


def progress_post(session: Session, outbox_id: int) -> OutboxMessage | None:
    """The admin's progress message as queued, to be updated in place."""
    return session.get(OutboxMessage, outbox_id)


# -- what was announced to whom ------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One post of a directive's announcements, for its report: when it was queued, and when Slack
    took it (`sent_at`, None until it has; a post given up on keeps None and Slack's `error`)."""

    phase: DirectivePhase
    address: str
    status: str
    error: str | None
    queued_at: datetime
    sent_at: datetime | None


def notices(session: Session, directive_id: int) -> list[Notice]:
    """Every post of every announcement of the directive, in the order they were queued (one query)."""
    rows = session.exec(
        select(
            DirectiveBroadcast.phase,
            OutboxMessage.address,
            OutboxMessage.status,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .join(DirectiveBroadcast, col(DirectiveBroadcast.group_key) == col(OutboxMessage.group_key))
        .where(DirectiveBroadcast.directive_id == directive_id, OutboxMessage.kind == OutboxKind.POST)
        .order_by(col(OutboxMessage.id))
    ).all()
    return [
        Notice(DirectivePhase(phase), address, status, error, queued_at, sent_at)
        for phase, address, status, error, queued_at, sent_at in rows
    ]


def failed_notice_count(session: Session, directive_id: int) -> int:
    """Posts of any of the directive's announcements that were given up on."""
    return int(
        session.exec(
            select(func.count()).where(_posts_of(directive_id), OutboxMessage.status == OutboxStatus.FAILED)
        ).one()
    )


# The first characters that make an address a Slack user id, by `is_user_id`: its set-based form below
# asks the database the same question (tests/unit/test_directive_rules.py proves they agree).
_USER_ID_STARTS = tuple(c for c in string.ascii_letters + string.digits if is_user_id(c))


def is_person_address(address: Any) -> ColumnElement[bool]:
    """SQL for `is_user_id(address)` (bot/domain/recipient.py): the address is a person's DM."""
    return func.substr(address, 1, 1).in_(_USER_ID_STARTS)


def reached_people(directive_id: int) -> CompoundSelect:
    """A SELECT of `user_id`: everyone the directive touched (see `touched_people`) or told."""
    told = select(col(OutboxMessage.address).label("user_id")).where(
        _posts_of(directive_id), is_person_address(OutboxMessage.address)
    )
    return union(_suspended_people(directive_id), _refused_requesters(directive_id), told)
