"""What a directive did, read back for its report: the grants it suspended, the requests it stopped or
denied, and (with bot/store/directive_notices.py) whom its announcements reached."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.directives import STOPPED_BY
from bot.store.directive_notices import failed_notice_count, reached_people
from bot.store.tables import AccessGrant, AccessRequest, GrantSuspension


@dataclass(frozen=True)
class Summary:
    """A directive's report in numbers."""

    people: int  # everyone it suspended a grant of, stopped or denied a request of, or told
    grants_suspended: int
    grants_reinstated: int
    requests_stopped: int  # pending when it took effect
    requests_denied: int  # asked for while it was in force
    notices_failed: int

    def as_dict(self) -> dict[str, int]:
        return {
            "people": self.people,
            "grants_suspended": self.grants_suspended,
            "grants_reinstated": self.grants_reinstated,
            "requests_stopped": self.requests_stopped,
            "requests_denied": self.requests_denied,
            "notices_failed": self.notices_failed,
        }


def summary(session: Session, directive_id: int) -> Summary:
    """The report's counts, in a few aggregate queries whatever the number of people."""
    suspended, reinstated = session.exec(
        select(func.count(), func.count().filter(col(GrantSuspension.reinstated))).where(
            GrantSuspension.directive_id == directive_id
        )
    ).one()
    stopped = session.exec(
        select(func.count()).where(
            AccessRequest.directive_id == directive_id, AccessRequest.decided_by == STOPPED_BY
        )
    ).one()
    denied = session.exec(
        select(func.count()).where(
            AccessRequest.directive_id == directive_id, AccessRequest.decided_by != STOPPED_BY
        )
    ).one()
    everyone = reached_people(directive_id).subquery()
    return Summary(
        people=int(session.exec(select(func.count()).select_from(everyone)).one()),
        grants_suspended=int(suspended),
        grants_reinstated=int(reinstated),
        requests_stopped=int(stopped),
        requests_denied=int(denied),
        notices_failed=failed_notice_count(session, directive_id),
    )


def suspensions(session: Session, directive_id: int) -> list[tuple[GrantSuspension, AccessGrant]]:
    """Every suspension the directive made (open or released), with its grant as it stands now."""
    return list(
        session.exec(
            select(GrantSuspension, AccessGrant)
            .join(AccessGrant, col(AccessGrant.id) == col(GrantSuspension.grant_id))
            .where(GrantSuspension.directive_id == directive_id)
            .order_by(col(GrantSuspension.grant_id))
        ).all()
    )


def requests_refused(session: Session, directive_id: int) -> list[AccessRequest]:
    """Requests the directive stopped while pending or denied when asked, oldest first."""
    return list(
        session.exec(
            select(AccessRequest)
            .where(AccessRequest.directive_id == directive_id)
            .order_by(col(AccessRequest.id))
        ).all()
    )
