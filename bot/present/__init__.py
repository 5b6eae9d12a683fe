"""Template data built from the stored state: the services decide, the templates only lay it out.

Both the use cases (bot/services) and the notifier (bot/notify, which composes some messages when it
sends them) build their messages' data from here, so a message reads the same whoever builds it.
Modules here read through bot/store and never change state; a message is a template and its data
(bot/present/replies.py), rendered by the Slack layer or the notifier.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from bot.domain.catalog import Catalog


class Presenter(Protocol):
    """What building a message's data needs from the running bot: the catalog and the clock
    (bot.services.context.Context is one)."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...


class Reader(Presenter, Protocol):
    """A Presenter that can also open a read-only session on its clock."""

    def read(self) -> AbstractContextManager[Session]: ...
