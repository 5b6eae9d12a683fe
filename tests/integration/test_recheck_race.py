"""A re-check racing a final approval never leaves an active grant the entitlement rule refuses: the
approval's last click and a directory import that makes the requester ineligible run at the same
moment, again and again; whichever wins, the grant is either never created or suspended at once."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.services import approvals, grants, requests
from bot.services.context import Context, Refusal
from bot.services.directory import import_directory
from bot.store.db import Database
from bot.store.holds import held_by
from bot.store.tables import AccessGrant, AccessRequest
from bot.workflows import load_catalog
from tests.support.bot_server import FIXTURES
from tests.support.concurrency import race
from tests.support.seed import directory_file

ALICE, MARIA, ADMIN = "U0ALICE01", "U0MARIA01", "U0ADMIN01"
WHY = "Evaluating summarisation quality for the quarterly research report"
ROUNDS = 6


def directory_with(tmp_path: Path, name: str, **alice: str) -> Path:
    return directory_file(tmp_path, name, **{ALICE: alice})


def approve(ctx: Context, request_id: int) -> None:
    """The manager's click; a request the import's re-check stopped first is refused, as it should."""
    try:
        approvals.decide(ctx, request_id=request_id, position=0, approver_id=MARIA, verdict="approve")
    except Refusal as refusal:
        assert "already denied" in refusal.message


def test_a_final_approval_racing_a_directory_import_never_leaves_a_refused_grant_active(
    db: Database, tmp_path: Path
) -> None:
    ctx = Context(db=db, catalog=load_catalog(FIXTURES / "workflows"))
    eligible = directory_with(tmp_path, "eligible.csv")
    embargoed = directory_with(tmp_path, "embargoed.csv", citizenships="US;IR")
    outcomes = set()
    for _ in range(ROUNDS):
        import_directory(ctx, eligible, actor="test")
        with db.read() as session:
            earlier = session.exec(select(AccessGrant).where(AccessGrant.user_id == ALICE)).all()
        for grant in earlier:
            if grant.status != "revoked":
                assert grant.status == "active", "the corrected directory gives earlier grants back"
                grants.revoke_grant(ctx, admin_id=ADMIN, grant_id=grant.id or 0, reason="next round")
        filed = requests.submit_request(
            ctx, requester_id=ALICE, model_slug="lumen-3", duration=None, justification=WHY
        )
        request_id = filed.subject_id or 0
        race(
            lambda request_id=request_id: approve(ctx, request_id),
            lambda: import_directory(ctx, embargoed, actor="test"),
        )
        with db.read() as session:
            request = session.get(AccessRequest, request_id)
        assert request is not None
        with db.read() as session:
            grant = session.exec(
                select(AccessGrant).where(AccessGrant.request_id == filed.subject_id)
            ).one_or_none()
            if grant is None:
                # The import's re-check stopped the request first, or the approval saw the new facts.
                assert request.status == "denied" and "embargo" in (request.outcome_reason or "")
                outcomes.add("never granted")
            else:
                # Granted first, then held by the import's re-check in its own transaction.
                assert grant.status == "suspended"
                assert held_by(session, [grant.id or 0])[grant.id or 0] == ["embargo"]
                outcomes.add("granted, then suspended")
        # Either order is fine; what never happens is an active grant for an embargoed citizen.
        with db.read() as session:
            active = session.exec(
                select(AccessGrant).where(AccessGrant.user_id == ALICE, AccessGrant.status == "active")
            ).all()
        assert active == []
    assert outcomes
