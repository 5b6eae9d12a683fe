"""What Slack says about an account, as the use case records it (bot/services/accounts.py): a reported
reactivation is believed only once confirmed, and never over another report that came meanwhile; an
answer of users.info that does not say changes nothing (bot/notify/accounts.py)."""

from __future__ import annotations

from datetime import timedelta

from bot.notify.accounts import ACCOUNT_CHECK_MAX_AGE, ACCOUNT_DEACTIVATED, AccountChecks
from bot.services.accounts import record_account
from bot.services.context import Context
from bot.store import accounts
from tests.support.history import Clock

ALICE = "U0ALICE01"


def deactivated(ctx: Context) -> bool:
    with ctx.read() as session:
        return ALICE in accounts.deactivated(session, [ALICE])


def test_a_report_that_comes_while_a_reactivation_is_confirmed_keeps_the_account_deactivated(
    ctx: Context,
) -> None:
    clock = ctx.clock
    assert isinstance(clock, Clock)
    record_account(ctx, ALICE, deleted=True)

    def confirm() -> bool:
        # While users.info is asked, the deactivation is reported again (a retried event): which of
        # the two is newer cannot be told.
        clock.now += timedelta(seconds=1)
        record_account(ctx, ALICE, deleted=True)
        return True

    clock.now += timedelta(seconds=1)
    record_account(ctx, ALICE, deleted=False, confirm_active=confirm)
    assert deactivated(ctx)
    # Confirmed with nothing in between, the reactivation stands.
    clock.now += timedelta(seconds=1)
    record_account(ctx, ALICE, deleted=False, confirm_active=lambda: True)
    assert not deactivated(ctx)


def test_an_unconfirmed_or_denied_reactivation_changes_nothing(ctx: Context) -> None:
    record_account(ctx, ALICE, deleted=True)
    record_account(ctx, ALICE, deleted=False, confirm_active=lambda: None)  # Slack could not say
    assert deactivated(ctx)
    record_account(ctx, ALICE, deleted=False, confirm_active=lambda: False)  # Slack says deactivated
    assert deactivated(ctx)


class _Unclear:
    """users.info answering without saying whether the account is deactivated."""

    def __init__(self, user: dict[str, object]):
        self.user = user

    def users_info(self, user: str) -> dict[str, object]:
        return {"ok": True, "user": {"id": user, **self.user}}


def test_a_users_info_answer_that_does_not_say_before_a_dm_lets_nobody_back_in(ctx: Context) -> None:
    record_account(ctx, ALICE, deleted=True)
    clock = ctx.clock
    assert isinstance(clock, Clock)
    for unclear in ({}, {"deleted": None}, {"deleted": "false"}):
        clock.now += ACCOUNT_CHECK_MAX_AGE + timedelta(minutes=1)  # stale: the sender asks again
        checks = AccountChecks(
            ctx.db,
            _Unclear(unclear),  # type: ignore[arg-type]
            clock,
            record=lambda user, deleted: record_account(ctx, user, deleted=deleted),
        )
        assert checks.refusal(ALICE, check=True) == ACCOUNT_DEACTIVATED
        assert deactivated(ctx)
