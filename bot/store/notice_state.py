"""Reads for the messages the notifier composes when it sends them (bot/notify/compose.py): what a
directive did to one person, and which approval step an approver's post shows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.domain.status import HELD_GRANT_STATUSES
from bot.store.tables import AccessGrant, AccessRequest, ApprovalTask, GrantSuspension


def grants_suspended_by(session: Session, directive_id: int, user_id: str) -> list[AccessGrant]:
    """The person's grants this directive suspended (released or not), by grant id."""
    rows = session.exec(
        select(AccessGrant, GrantSuspension)
        .join(GrantSuspension, col(GrantSuspension.grant_id) == col(AccessGrant.id))
        .where(GrantSuspension.directive_id == directive_id, GrantSuspension.user_id == user_id)
        .order_by(col(AccessGrant.id))
    ).all()
    return [grant for grant, _ in rows]


def held_by_other_directives(
    session: Session, grant_ids: Sequence[int], directive_id: int
) -> dict[int, list[int]]:
    """For each of these grants that another directive still holds suspended: those directives' ids
    (grants nothing else holds are absent)."""
    if not grant_ids:
        return {}
    held: dict[int, list[int]] = {}
    for grant_id, other in session.exec(
        select(GrantSuspension.grant_id, GrantSuspension.directive_id).where(
            col(GrantSuspension.grant_id).in_(list(grant_ids)),
            GrantSuspension.directive_id != directive_id,
            col(GrantSuspension.released_at).is_(None),
        )
    ):
        held.setdefault(grant_id, []).append(other)
    return held


def requests_stopped_by(session: Session, directive_id: int, user_id: str) -> list[AccessRequest]:
    """The person's requests this directive touched (stopped, or refused while it was in force), by id."""
    return list(
        session.exec(
            select(AccessRequest)
            .where(AccessRequest.directive_id == directive_id, AccessRequest.requester_id == user_id)
            .order_by(col(AccessRequest.id))
        )
    )


def held_grants_for(session: Session, user_id: str, models: Sequence[str]) -> list[AccessGrant]:
    """The person's grants of these models that still hold the model (active or suspended), by id."""
    return list(
        session.exec(
            select(AccessGrant)
            .where(
                AccessGrant.user_id == user_id,
                col(AccessGrant.model).in_(list(models)),
                col(AccessGrant.status).in_(HELD_GRANT_STATUSES),
            )
            .order_by(col(AccessGrant.id))
        )
    )


def task_of_post(session: Session, outbox_id: int) -> ApprovalTask | None:
    """The approval task whose approver was sent the outbox post `outbox_id`, or None."""
    return session.exec(select(ApprovalTask).where(ApprovalTask.outbox_id == outbox_id)).first()
