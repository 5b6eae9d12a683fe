"""The declared shape of workflows/chains.yaml: named approval chains, each a list of approval steps."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, field_validator

from bot.domain.catalog import MANAGER, Chain, StepRule
from bot.workflow_specs.values import (
    MISSING,
    ROLE,
    Spec,
    chain_name,
    listed,
    named,
    optional_flag,
    problem,
    text,
    whole_number,
)


class StepSpec(Spec):
    approvers: Annotated[str, text()]
    quorum: Annotated[int, whole_number(1, 10)] = 1
    name: Annotated[str, text(limit=100, required=False)] = ""
    delegable: Annotated[bool | None, BeforeValidator(optional_flag)] = None

    @field_validator("approvers")
    @classmethod
    def _manager_or_role(cls, approvers: str) -> str:
        if approvers != MANAGER and not ROLE.match(approvers):
            raise problem(f"'{approvers}' must be 'manager' or a directory role name")
        return approvers

    @field_validator("quorum")
    @classmethod
    def _one_manager(cls, quorum: int, info: ValidationInfo) -> int:
        if info.data.get("approvers") == MANAGER and quorum != 1:
            raise problem("a manager step has one approver; quorum must be 1")
        return quorum

    def to_rule(self) -> StepRule:
        default = "Manager" if self.approvers == MANAGER else self.approvers.replace("-", " ").capitalize()
        return StepRule(self.name or default, self.approvers, self.quorum, self.delegable)


class ChainSpec(Spec):
    description: Any = None  # for the admin reading the file; never shown
    steps: Annotated[list[StepSpec], listed(MISSING["steps"], non_empty=True, empty_means="missing")]

    def to_chain(self, name: str) -> Chain:
        return Chain(name, tuple(step.to_rule() for step in self.steps))


class ChainsFile(Spec):
    chains: Annotated[dict[Annotated[str, AfterValidator(chain_name)], ChainSpec], BeforeValidator(named)]

    def to_chains(self) -> dict[str, Chain]:
        return {name: spec.to_chain(name) for name, spec in self.chains.items()}


def defined_chains(data: Any) -> set[str]:
    """The chain names models may use: each one in chains.yaml with a non-empty list of steps, even if a
    step is wrong (that is reported once, in chains.yaml, not again for every model on the chain)."""
    chains = named(data.get("chains")) if isinstance(data, dict) else None
    if not isinstance(chains, dict):
        return set()
    return {
        name
        for name, body in chains.items()
        if isinstance(body, dict) and isinstance(body.get("steps"), list) and body["steps"]
    }
