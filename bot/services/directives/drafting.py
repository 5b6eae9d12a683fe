"""The form's confirmation step: a checked draft is kept, and the admin sees its impact before anything
changes."""

from __future__ import annotations

from bot.domain.directives import Draft
from bot.domain.status import DirectiveStatus
from bot.present.directives import directive_data
from bot.present.replies import Screen
from bot.services.context import Context
from bot.services.directives.access import require_admin
from bot.services.directives.impact import Impact, measure
from bot.store import directives as rows


def save_draft(ctx: Context, *, actor: str, draft: Draft) -> tuple[int, Impact]:
    """Keep a checked draft (for the Slack confirmation step) and measure its impact. Returns the
    draft's id and the impact. Raises Refusal unless `actor` may issue directives."""
    require_admin(ctx, actor, "issue directives")
    with ctx.uow() as uow:
        directive = rows.add_directive(uow.session, draft, actor, ctx.clock(), DirectiveStatus.DRAFT)
        impact = measure(ctx, uow.session, draft)
        uow.commit()
    return directive.id or 0, impact


def preview(ctx: Context, *, actor: str, draft: Draft) -> Screen:
    """Save a checked draft and return the confirmation screen (template `directive_confirm`): its
    impact, before anything changes. Raises Refusal unless `actor` may issue directives."""
    draft_id, impact = save_draft(ctx, actor=actor, draft=draft)
    with ctx.read() as session:
        stored = rows.find_directive(session, draft_id)
        assert stored is not None  # saved above; drafts are never deleted
        data = directive_data(ctx, stored, rows.draft_of(session, stored))
    return Screen(
        "directive_confirm",
        {"directive": data, "impact": impact.as_dict(), "scheduled": draft.effective_at is not None},
    )
