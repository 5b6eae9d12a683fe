"""The dispatcher loop both senders share (bot/notify/dispatch.py): two threads of one process that claim
at once (the dispatcher thread and a `drain`) never take the same row, even when its lease looks run out
(a clock that jumped, a worker slower than its lease)."""

from __future__ import annotations

import threading

from bot.notify.dispatch import Claimed, Dispatcher


class ExpiredLeases(Dispatcher):
    """One row, whose lease is always run out: only the process's own rows in flight keep it from
    being claimed again. The first claim pauses between the claim and its return until `release`."""

    def __init__(self) -> None:
        super().__init__(workers=4, poll_seconds=1.0, name="test-dispatch")
        self.claims: list[int] = []
        self.first_claimed = threading.Event()
        self.second_entered = threading.Event()
        self.release = threading.Event()
        self.done = threading.Event()

    def claim_work(self, limit: int) -> list[Claimed]:
        if self.claims:
            self.second_entered.set()
        if 1 in self.inflight_ids():
            return []
        self.claims.append(1)
        if len(self.claims) == 1:
            self.first_claimed.set()
            self.release.wait(5)
        return [(1, self.done.wait)]

    def pending_count(self) -> int:
        return 0


def test_a_row_claimed_by_one_thread_is_not_claimed_again_by_another() -> None:
    dispatcher = ExpiredLeases()
    first = threading.Thread(target=dispatcher.dispatch)
    first.start()
    assert dispatcher.first_claimed.wait(5)
    second = threading.Thread(target=dispatcher.dispatch)
    second.start()
    # Unguarded, the second thread claims while the first has not yet counted its row in flight; guarded,
    # it waits for the first, and the timeout lets the first go on.
    dispatcher.second_entered.wait(0.3)
    dispatcher.release.set()
    first.join(5)
    second.join(5)
    dispatcher.done.set()
    dispatcher.stop()
    assert dispatcher.claims == [1]
