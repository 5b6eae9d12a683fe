"""What a PostgreSQL engine asks libpq for when it opens a connection: no JIT, and a bounded wait."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.store.db import POSTGRES_CONNECT_TIMEOUT_SECONDS, make_engine


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connect_parameters(query: str = "") -> dict[str, Any]:
    """The parameters the engine hands the driver for a new connection (which is then refused)."""
    engine = make_engine(f"postgresql://nobody@127.0.0.1:{closed_port()}/none{query}", pool=False)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        seen.update(params)

    try:
        with pytest.raises(OperationalError):
            engine.connect()
    finally:
        engine.dispose()
    return seen


def test_a_new_connection_waits_a_bounded_time_and_runs_without_jit() -> None:
    params = connect_parameters()
    assert params["connect_timeout"] == POSTGRES_CONNECT_TIMEOUT_SECONDS
    assert params["options"] == "-c jit=off"


def test_the_url_can_set_either_itself() -> None:
    params = connect_parameters("?connect_timeout=3&options=-c%20statement_timeout%3D5000")
    assert params["connect_timeout"] == "3"
    assert params["options"] == "-c statement_timeout=5000"
