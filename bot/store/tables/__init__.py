"""The database tables. Alembic (migrations/) owns the schema; these classes must match it.

States are stored as plain words (the values of the enums in bot/domain/status.py) so that SQL stays
readable in reports.

Each module holds one family of tables; importing this package registers every table on
SQLModel.metadata (Alembic compares against it).
"""

from __future__ import annotations

from bot.store.tables.access import (
    AccessGrant,
    AccessRequest,
    ApprovalTask,
    BreakGlass,
    Decision,
    Delegation,
    GrantConfirmation,
    GrantWarning,
    RequestStep,
)
from bot.store.tables.directives import (
    Directive,
    DirectiveBroadcast,
    DirectiveCountry,
    DirectiveModel,
    DirectiveUser,
    GrantSuspension,
)
from bot.store.tables.entitlement import GrantHold, Recheck, RecheckChange, RecheckReason
from bot.store.tables.gateway import GatewayCheck, PersonalKey
from bot.store.tables.licences import GrantLicence, Licence, LicenceCountry, LicenceModel, LicenceWarning
from bot.store.tables.people import Person, PersonCitizenship, PersonRole
from bot.store.tables.records import AuditChain, AuditCheckpoint, AuditEvent, OutboxMessage, SeenRequest
from bot.store.tables.scheduler import SchedulerRun
from bot.store.tables.webhooks import WebhookDelivery, WebhookEvent
from bot.store.tables.workspace import DmChannel, HomeTab, SlackAccount

__all__ = [
    "AccessGrant",
    "AccessRequest",
    "ApprovalTask",
    "AuditChain",
    "AuditCheckpoint",
    "AuditEvent",
    "BreakGlass",
    "Decision",
    "Delegation",
    "Directive",
    "DirectiveBroadcast",
    "DirectiveCountry",
    "DirectiveModel",
    "DirectiveUser",
    "DmChannel",
    "GatewayCheck",
    "GrantConfirmation",
    "GrantHold",
    "GrantLicence",
    "GrantSuspension",
    "GrantWarning",
    "HomeTab",
    "Licence",
    "LicenceCountry",
    "LicenceModel",
    "LicenceWarning",
    "OutboxMessage",
    "Person",
    "PersonCitizenship",
    "PersonRole",
    "PersonalKey",
    "Recheck",
    "RecheckChange",
    "RecheckReason",
    "RequestStep",
    "SchedulerRun",
    "SeenRequest",
    "SlackAccount",
    "WebhookDelivery",
    "WebhookEvent",
]
