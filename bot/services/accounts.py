"""What Slack tells us about people's accounts, and their App Home tab."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.notify import outbox
from bot.services import approvals
from bot.services.context import Context
from bot.services.recheck import recheck
from bot.store import accounts
from bot.store.locks import directive_barrier

log = logging.getLogger(__name__)


def home_opened(ctx: Context, user_id: str) -> None:
    """The person opened the App Home: remember that they have one and publish it fresh."""
    with ctx.uow() as uow:
        accounts.remember_home(uow.session, user_id)
        uow.session.flush()
        outbox.refresh_homes(uow.session, [user_id])
        uow.commit()


def record_account(
    ctx: Context, user_id: str, *, deleted: bool, confirm_active: Callable[[], bool | None] | None = None
) -> None:
    """Slack says this account is deactivated (`deleted`) or active again (the `user_change` event, or
    users.info before a DM).

    A change is audited (bot/store/accounts.py) and re-checks every grant and pending request in the
    same transaction (bot/services/recheck.py): a deactivated person's grants are suspended and their
    requests stopped, a reactivation lifts that reason. After a deactivation, approval steps that now have
    nobody left to decide them go to the access admins at once (reroute_stranded in
    bot/services/approvals/stranded.py), as they would at the scheduler's next run.

    `confirm_active` (users.info, for what an event reports): Slack delivers events late, retried and in
    no promised order (https://api.slack.com/apis/events-api#retries), so an event saying "active" about
    an account known to be deactivated may be older than the deactivation. It lets nobody back in on its
    own: the reactivation is recorded only when `confirm_active()` says the account is active now; False
    records the deactivation again (nothing changes), None (Slack could not say) records nothing and
    the account stays deactivated until Slack says otherwise.
    """
    confirmed_since = None
    if not deleted and confirm_active is not None:
        with ctx.read() as session:
            known_deactivated = bool(accounts.deactivated(session, [user_id]))
            confirmed_since = accounts.checked_at(session, user_id) if known_deactivated else None
        if known_deactivated:
            confirmed = confirm_active()  # outside any transaction: a Slack call holds no lock
            if confirmed is None:
                log.warning("a reported reactivation could not be confirmed; the account stays deactivated")
                return
            deleted = not confirmed
    with ctx.uow() as uow:
        # A deactivation is an input of the entitlement rule: re-check in the same transaction.
        directive_barrier(uow.session, exclusive=True)
        # A confirmed reactivation stands only if no other report came while Slack was asked: which of
        # the two is newer cannot be told, and the account stays deactivated (fail closed).
        changed = accounts.record(
            uow.session, user_id, deleted=deleted, now=ctx.clock(), unchanged_since=confirmed_since
        )
        if changed:
            recheck(ctx, uow.session, trigger="slack account", actor="slack")
        uow.commit()
    if changed and deleted:
        approvals.reroute_stranded(ctx)
