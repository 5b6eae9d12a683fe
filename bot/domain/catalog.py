"""The model catalog, approval chains and policy settings, as plain immutable data.

Loaded from workflows/ (see bot/workflows.py); everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from bot.domain.webhooks import Receiver

# The longest query search() looks at: people type model names, not essays, and each extra character is
# work done on every keystroke.
SEARCH_QUERY_MAX = 100

MANAGER = "manager"

# Model status as configured in workflows/models.yaml. Directives can make the *effective* status
# stricter at run time (restricted, suspended); see effective_status().
AVAILABLE = "available"
SUSPENDED = "suspended"
RESTRICTED = "restricted"
MODEL_STATUSES = (AVAILABLE, SUSPENDED)


@dataclass(frozen=True)
class StepRule:
    """One step of an approval chain: who approves (`manager` or a directory role) and how many."""

    name: str
    approvers: str
    quorum: int = 1
    # Whether its approvers' delegates are asked too (chains.yaml `delegable`); None: yes, except for a
    # step of the export-compliance role (see is_delegable).
    delegable: bool | None = None

    @property
    def is_manager(self) -> bool:
        return self.approvers == MANAGER

    def is_delegable(self, compliance_role: str) -> bool:
        """Whether delegates may decide for this step's approvers: as chains.yaml says, else every step
        but export compliance's (a licensing decision stays with the people who hold that role)."""
        return self.approvers != compliance_role if self.delegable is None else self.delegable

    def describe(self) -> str:
        who = "the requester's manager" if self.is_manager else f"{self.approvers}"
        if self.quorum > 1:
            return f"{self.quorum} of {who}"
        return who


@dataclass(frozen=True)
class Chain:
    name: str
    steps: tuple[StepRule, ...]


@dataclass(frozen=True)
class BreakGlassRule:
    """Who may take a model at once, without approval, in an emergency (models.yaml `break_glass`):
    holders of `roles`, for at most `max_duration`; reviewed after the fact."""

    roles: tuple[str, ...]
    max_duration: timedelta


@dataclass(frozen=True)
class Model:
    slug: str
    name: str
    provider: str
    status: str
    default_duration: timedelta
    max_duration: timedelta
    chain: str
    announce_channels: tuple[str, ...] = ()
    us_persons_only: bool = False
    description: str = ""
    gateway_models: tuple[str, ...] = ()  # other names gateways call it by (models.yaml)
    # Lead times before a grant's end at which its holder is warned (None: the policy's), longest first.
    expiry_warnings: tuple[timedelta, ...] | None = None
    extend_chain: str | None = None  # the chain an extension runs (None: the model's own chain)
    # This model's reminder and escalation timings (None: the policy's).
    approval_reminder_after: timedelta | None = None
    approval_reminders: int | None = None
    approval_escalate_after: timedelta | None = None
    break_glass: BreakGlassRule | None = None  # None: no break-glass access to this model


@dataclass(frozen=True)
class Policy:
    embargoed_countries: frozenset[str] = frozenset()
    justification_min_chars: int = 20
    justification_max_chars: int = 3000
    admin_role: str = "access-admin"
    compliance_role: str = "export-compliance"
    request_ttl: timedelta = timedelta(days=14)
    duration_choices: tuple[timedelta, ...] = (
        timedelta(days=1),
        timedelta(days=7),
        timedelta(days=30),
        timedelta(days=90),
    )
    contact: str = "your access admins"
    directory_contact: str = "your access admins"
    # A full directory import that would mark more than this share of the directory departed refuses
    # unless forced: a truncated HR export must not offboard the company.
    max_departure_percent: int = 10
    # A licence's holder and export compliance are warned this many days before its last day.
    licence_warning_days: tuple[int, ...] = (30, 7)
    # The channel audit checkpoints are posted to (a channel ID); None: recorded, not posted.
    compliance_channel: str | None = None
    # A grant's holder is warned this long before its end (none for a grant no longer than the lead
    # time), longest first; models may set their own.
    expiry_warnings: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    # A step waiting this long reminds its approvers, up to `approval_reminders` times (each this long
    # after the one before); once it has waited `approval_escalate_after` it also goes to the holders of
    # `approval_escalate_to` (None: the admin role), saying who has not answered.
    approval_reminder_after: timedelta = timedelta(days=1)
    approval_reminders: int = 2
    approval_escalate_after: timedelta = timedelta(days=3)
    approval_escalate_to: str | None = None
    # Where break-glass use is announced (a channel ID; the access admins are told by DM in any case).
    break_glass_channel: str | None = None


@dataclass(frozen=True)
class ReminderTimings:
    """When a waiting approval step reminds its approvers and when it escalates (measured from the
    step's start): reminder k (1 to `reminders`) at k times `remind_after`; escalation at `escalate_after`."""

    remind_after: timedelta
    reminders: int
    escalate_after: timedelta


@dataclass(frozen=True)
class Catalog:
    models: dict[str, Model] = field(default_factory=dict)
    chains: dict[str, Chain] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    # Webhook receivers (workflows/webhooks.yaml), in the file's order; none when it is absent.
    receivers: tuple[Receiver, ...] = ()

    def model(self, slug: str) -> Model | None:
        return self.models.get(slug.strip().lower())

    def gateway_model(self, name: str) -> Model | None:
        """The model a gateway means by `name`: one of its `gateway_models` (exactly as written in
        models.yaml), else its slug (any case). None when no model is called so."""
        found = self._gateway_names.get(name)
        return self.models[found] if found else self.model(name)

    @cached_property
    def _gateway_names(self) -> dict[str, str]:
        return {name: model.slug for model in self.models.values() for name in model.gateway_models}

    def chain_for(self, model: Model) -> Chain:
        return self.chains[model.chain]

    def extend_chain_for(self, model: Model) -> Chain:
        """The approval chain that extending a grant of `model` runs (models.yaml `extend_chain`)."""
        return self.chains[model.extend_chain or model.chain]

    def reminders_for(self, model: Model | None) -> ReminderTimings:
        """The reminder and escalation timings of `model`'s approval steps (models.yaml, else policy; the
        policy's for a model no longer in the catalog)."""
        policy = self.policy
        timings = ReminderTimings(
            policy.approval_reminder_after, policy.approval_reminders, policy.approval_escalate_after
        )
        if model is None:
            return timings
        return ReminderTimings(
            remind_after=model.approval_reminder_after or timings.remind_after,
            reminders=timings.reminders if model.approval_reminders is None else model.approval_reminders,
            escalate_after=model.approval_escalate_after or timings.escalate_after,
        )

    def escalation_role(self) -> str:
        """The role a step escalates to (policy `approval_escalate_to`, default the admin role)."""
        return self.policy.approval_escalate_to or self.policy.admin_role

    def expiry_warnings_for(self, model: Model) -> tuple[timedelta, ...]:
        """How long before a grant's end its holder is warned, longest first."""
        return self.policy.expiry_warnings if model.expiry_warnings is None else model.expiry_warnings

    def durations_for(self, model: Model) -> list[timedelta]:
        """The choices offered for a model: the configured ones up to its maximum, plus its default."""
        choices = {d for d in self.policy.duration_choices if d <= model.max_duration}
        choices.add(model.default_duration)
        return sorted(choices)

    def search(self, query: str, limit: int) -> list[Model]:
        """Models whose slug or name holds every word of `query` (case-insensitive), best matches first.

        Ranking: exact slug, then slug or name starting with the query, then a word of the name starting
        with it, then anywhere; ties in name order, as the catalog is listed. An empty query lists the
        catalog from the top. The work is one pass over the in-memory catalog, so it is cheap enough to
        run on every keystroke.
        """
        wanted = " ".join(query[:SEARCH_QUERY_MAX].casefold().split())
        words = wanted.split()
        found: list[tuple[int, str, str, Model]] = []
        for model in self.models.values():
            slug, name = model.slug.casefold(), model.name.casefold()
            if not all(word in slug or word in name for word in words):
                continue
            if not wanted or slug == wanted:
                rank = 0
            elif slug.startswith(wanted) or name.startswith(wanted):
                rank = 1
            elif any(part.startswith(words[0]) for part in name.split()):
                rank = 2
            else:
                rank = 3
            found.append((rank, name, slug, model))
        found.sort(key=lambda item: item[:3])
        return [model for *_, model in found[: max(0, limit)]]
