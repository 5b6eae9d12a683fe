"""Directive use cases: preview the impact, issue (now or scheduled), activate, lift, follow delivery,
list and report. Each owns one transaction; the SQL they run lives in bot/store (directives.py for the
rows and who a directive covers, directive_effects.py for the set-based suspensions and stops,
directive_notices.py for announcements and their delivery, directive_reports.py for reports).

    access      who may handle directives
    impact      what issuing a directive now would do
    drafting    the confirmation step: keep a draft, show its impact
    issuing     issue now or scheduled; the job that activates scheduled ones
    effects     put a directive in force: announce, suspend grants, stop requests
    broadcast   queue one announcement (warning, activation, lifting, withdrawal)
    lifting     lift or withdraw
    progress    the issuing admin's progress message and the job that updates it
    reports     the list and the per-directive report
    records     a directive as `--json` and the audit trail record it
"""

from bot.present.directives import directive_data
from bot.services.directives.access import require_admin
from bot.services.directives.drafting import preview, save_draft
from bot.services.directives.impact import Impact, ModelImpact, measure
from bot.services.directives.issuing import Issued, activate_due, issue
from bot.services.directives.lifting import MAX_REASON, Lifted, lift
from bot.services.directives.progress import delivery_counts, refresh_progress
from bot.services.directives.reports import get_directive, list_directives, report, report_summary
from bot.store.directive_notices import group_key
from bot.store.directives import draft_of

__all__ = [
    "MAX_REASON",
    "Impact",
    "Issued",
    "Lifted",
    "ModelImpact",
    "activate_due",
    "delivery_counts",
    "directive_data",
    "draft_of",
    "get_directive",
    "group_key",
    "issue",
    "lift",
    "list_directives",
    "measure",
    "preview",
    "refresh_progress",
    "report",
    "report_summary",
    "require_admin",
    "save_draft",
]
