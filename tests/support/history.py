"""Building a history through the services on a test clock: a clock that stands still until moved,
approving a request step by step, issuing a directive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.directives import check_draft
from bot.services import approvals, directives
from bot.services.context import Context
from bot.store import requests as queries
from bot.store.tables import AccessRequest
from tests.support.seed import DIRECTORY

ADMIN = "U0ADMIN01"
# When the histories of the service tests begin: the clock stands here until a test moves it.
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Clock:
    """A clock that stands still until moved."""

    def __init__(self, at: datetime):
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def approve_fully(ctx: Context, request_id: int) -> None:
    """Approve each step in turn, each time by the first approver asked who has not decided yet."""
    while True:
        with ctx.read() as session:
            found = session.get(AccessRequest, request_id)
            assert found is not None
            if found.status != "pending":
                return
            position = found.current_step or 0
            decided = {d.approver_id for d in queries.decisions_of(session, request_id)}
            asked = [t.approver_id for t in queries.tasks_at(session, request_id, position)]
        approver = next(a for a in asked if a not in decided)
        approvals.decide(
            ctx, request_id=request_id, position=position, approver_id=approver, verdict="approve"
        )


def issue(ctx: Context, action: str, population: str, effective_at: datetime | None = None) -> int:
    """Issue a directive on mythos-5 as the access admin (now, or scheduled at `effective_at`); its id."""
    draft = check_draft(
        title="Restriction on frontier models",
        authority="Bureau of Industry and Security",
        reference="15 CFR 744.23",
        notice="Access to Mythos 5 is restricted.",
        models=["mythos-5"],
        known_models=set(ctx.catalog.models),
        population=population,
        action=action,
        effective_at=effective_at,
        now=ctx.clock(),
    )
    return directives.issue(ctx, actor=ADMIN, draft=draft).directive.id or 0


def directory_with(
    tmp_path: Path, name: str, *, without: str = "", us_person: dict[str, str] | None = None
) -> Path:
    """The fixture directory without one person, or with people's us_person column changed."""
    lines = DIRECTORY.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] == without:
            continue
        if us_person and cells[0] in us_person:
            cells[7] = us_person[cells[0]]
        out.append(",".join(cells))
    path = tmp_path / name
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
