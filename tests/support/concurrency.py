"""Concurrent writers in tests: released at the same moment (`race`), or interleaved on PostgreSQL at a
chosen point without timing (`second_after_first_call`: the first is held just after a call of its own
until the second waits on a lock the first holds, or ends)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from bot.store.db import Database


def waiting_on_a_lock(db: Database) -> bool:
    """Whether a session of this test's database waits on a lock held by another."""
    query = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.read() as session:
        return bool(session.exec(text(query)).one()[0])  # type: ignore[call-overload]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Return once `condition()` holds; AssertionError after `timeout` seconds."""
    gave_up = threading.Event()
    deadline = threading.Timer(timeout, gave_up.set)
    deadline.start()
    try:
        while not condition():
            assert not gave_up.wait(0.02), "the second writer neither waited nor ended"
    finally:
        deadline.cancel()


def second_after_first_call(
    monkeypatch: pytest.MonkeyPatch, db: Database, owner: object, name: str, second: Callable[[], object]
) -> list[threading.Thread]:
    """Patch `owner.name`, a function whose first argument is a Session, so that its first call on this
    thread runs, flushes the session (its writes made, not committed) and then starts `second` in a
    thread, holding the caller back until `second` waits on a lock or ends. Returns a list that holds the
    second's thread once started, to join."""
    real = getattr(owner, name)
    started: list[threading.Thread] = []
    first = threading.current_thread()

    def call_then_let_the_second_in(session: Any, *args: Any, **kwargs: Any) -> Any:
        result = real(session, *args, **kwargs)
        if not started and threading.current_thread() is first:
            session.flush()
            thread = threading.Thread(target=second)
            started.append(thread)
            thread.start()
            wait_until(lambda: not thread.is_alive() or waiting_on_a_lock(db))
        return result

    monkeypatch.setattr(owner, name, call_then_let_the_second_in)
    return started


def race(*actions: Callable[[], object]) -> None:
    """Run the actions in threads released at the same moment; re-raise the first error."""
    start = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            action()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
