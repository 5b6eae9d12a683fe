"""People who left: Slack still accepts a DM to a deactivated account (python-slack-sdk issue 1156), so
before a DM the sender asks what Slack last said about the person (`slack_account`, kept by the
`user_change` event and by this check), and for rows with `check_account` asks users.info first when
that answer is missing or older than ACCOUNT_CHECK_MAX_AGE."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.notify.slack_errors import error_code
from bot.store import accounts, slack_state
from bot.store.db import Database

log = logging.getLogger(__name__)

# How long what users.info said about an account is trusted before a `check_account` row asks again.
ACCOUNT_CHECK_MAX_AGE = timedelta(minutes=10)
# The outbox error of a DM not sent because the person's Slack account is deactivated.
ACCOUNT_DEACTIVATED = "account_deactivated"
# The outbox error of a DM not sent because Slack knows no such person.
USER_NOT_FOUND = "user_not_found"


class AccountChecks:
    """Whether a DM to a person may go; `clock` gives aware UTC datetimes."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        clock: Callable[[], datetime],
        record: Callable[[str, bool], None] | None = None,
    ):
        """`record(user_id, deleted)` stores what users.info said; the runtime gives the use case that
        also re-checks the person's grants in the same transaction (bot/services/accounts.py), and
        without it only the account's state is stored."""
        self.record = record or self._record
        self.db = db
        self.client = client
        self.clock = clock

    def refusal(self, user_id: str, *, check: bool) -> str | None:
        """Why a DM to `user_id` must not be sent (ACCOUNT_DEACTIVATED, USER_NOT_FOUND), or None.

        With `check`, an answer older than ACCOUNT_CHECK_MAX_AGE, or none, is refreshed with users.info
        first; its rate limits and server errors propagate (SlackApiError) and the row is retried like
        any other.
        """
        with self.db.read() as session:
            known = slack_state.known_account(session, user_id)
        if check and (known is None or self.clock() - known.checked_at > ACCOUNT_CHECK_MAX_AGE):
            try:
                response = self.client.users_info(user=user_id)
            except SlackApiError as error:
                if error_code(error) == USER_NOT_FOUND:
                    return USER_NOT_FOUND
                raise
            user = response.get("user")
            deleted = user.get("deleted") if isinstance(user, dict) else None
            if isinstance(deleted, bool):
                self.record(user_id, deleted)
                return ACCOUNT_DEACTIVATED if deleted else None
            # An answer that does not say (no `deleted`, or not true or false) changes nothing we knew:
            # it never lets a deactivated person back in.
            log.warning("users.info did not say whether an account is deactivated; keeping what was known")
        if known is not None and known.deleted:
            return ACCOUNT_DEACTIVATED
        return None

    def _record(self, user_id: str, deleted: bool) -> None:
        """Upsert what users.info said; `changed_at` moves only when the deleted flag changes."""
        now = self.clock()
        with self.db.uow() as uow:
            accounts.record(uow.session, user_id, deleted=deleted, now=now)
            uow.commit()
