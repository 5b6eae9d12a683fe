"""What every service needs, built once at the entry point and injected."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.domain.catalog import Catalog
from bot.present.replies import Reply
from bot.store.db import Database, UnitOfWork
from bot.store.types import utcnow


@dataclass
class Context:
    db: Database
    catalog: Catalog
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        """A transaction whose timestamps come from this context's clock."""
        return self.db.uow(self.clock)

    def read(self) -> AbstractContextManager[Session]:
        """A read-only session on this context's clock."""
        return self.db.read(self.clock)


class Refusal(Exception):
    """The action is not allowed or not possible; the message says why in plain words (plain text: the
    Slack layer escapes it, the CLI prints it as it is)."""

    def __init__(
        self, message: str, *, title: str | None = None, audited: bool = False, field: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.title = title
        # Which input the problem is about (model, duration, justification), for errors shown in a form.
        self.field = field
        # A refused attempt at a privileged action, recorded in the audit trail by the service.
        self.audited = audited


@dataclass(frozen=True)
class Outcome:
    """What the use case tells the person who acted (data, rendered by the Slack layer), the subject
    it acted on, and the state it left it in."""

    reply: Reply
    subject_id: int | None = None
    status: str | None = None
