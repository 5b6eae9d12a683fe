"""The model catalog, approval chains and policy settings, as plain immutable data.

Loaded from workflows/ (see bot/workflows.py); everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

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

    @property
    def is_manager(self) -> bool:
        return self.approvers == MANAGER

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


@dataclass(frozen=True)
class Catalog:
    models: dict[str, Model] = field(default_factory=dict)
    chains: dict[str, Chain] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)

    def model(self, slug: str) -> Model | None:
        return self.models.get(slug.strip().lower())

    def chain_for(self, model: Model) -> Chain:
        return self.chains[model.chain]

    def durations_for(self, model: Model) -> list[timedelta]:
        """The choices offered for a model: the configured ones up to its maximum, plus its default."""
        choices = {d for d in self.policy.duration_choices if d <= model.max_duration}
        choices.add(model.default_duration)
        return sorted(choices)
