"""Loading and checking workflows/ (models.yaml, chains.yaml, policy.yaml, and webhooks.yaml when there
is one) into a Catalog.

Every problem is reported as `<file>: <key path>: <what is wrong>`, all at once, so an admin can fix the
files in one go. `accessbot workflows check` prints them; `serve` refuses to start while any remain.
The files' shape is declared in bot/workflow_specs/; this module reads them, turns pydantic's errors
into those lines and builds the Catalog.

`slack_warnings` names, in the same form, valid settings that run into a Slack limit (a menu holds 100
options, an option label 75 characters): nothing breaks, but people will see something the admin may not
expect, so `accessbot workflows check` prints them as warnings.
"""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.domain.catalog import Catalog
from bot.domain.durations import compact_duration
from bot.present.mrkdwn import clip
from bot.slack import ids
from bot.workflow_specs import (
    MISSING,
    WORKFLOW_ERROR,
    ChainsFile,
    ModelsFile,
    PolicyFile,
    WebhooksFile,
    defined_chains,
    kind,
)

FILES = ("models.yaml", "chains.yaml", "policy.yaml")
# Read when present: without it, no webhook receivers.
WEBHOOKS_FILE = "webhooks.yaml"
# How many models `/access models` lists before "…and N more" (templates/models.json.j2): a message holds
# 50 blocks (docs.slack.dev/reference/block-kit/blocks), and the header and footer need some.
MODELS_LISTED = 45

_Spec = TypeVar("_Spec", bound=BaseModel)


# LibYAML's safe loader where PyYAML was built with it (its wheels are): the same documents and errors
# as the pure-Python SafeLoader at a fraction of the cost, which every process start and reload pays.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class WorkflowError(Exception):
    """The workflows cannot be used; `problems` holds one `<file>: <key path>: <what>` line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_catalog(directory: Path) -> Catalog:
    """Read and check every file; raises WorkflowError listing each problem."""
    problems: list[str] = []
    if not directory.is_dir():
        raise WorkflowError([f"{directory}: workflows directory not found (set ACCESSBOT_WORKFLOWS_DIR)"])
    raw = {name: _read(directory, name, problems) for name in FILES}
    context = {"chains": defined_chains(raw["chains.yaml"]), "slugs": set(), "gateway_models": {}}
    policy = _check(PolicyFile, directory / "policy.yaml", raw["policy.yaml"], problems)
    chains = _check(ChainsFile, directory / "chains.yaml", raw["chains.yaml"], problems)
    models = _check(ModelsFile, directory / "models.yaml", raw["models.yaml"], problems, context)
    webhooks: WebhooksFile | None = WebhooksFile()
    if (directory / WEBHOOKS_FILE).exists():
        path = directory / WEBHOOKS_FILE
        webhooks = _check(
            WebhooksFile, path, _read(directory, WEBHOOKS_FILE, problems), problems, {"receivers": set()}
        )
    if problems or policy is None or chains is None or models is None or webhooks is None:
        raise WorkflowError(problems)
    return Catalog(
        models=models.to_models(),
        chains=chains.to_chains(),
        policy=policy.policy.to_policy(),
        receivers=webhooks.to_receivers(),
    )


def _read(directory: Path, name: str, problems: list[str]) -> Any:
    path = directory / name
    label = str(path)
    if not path.is_file():
        problems.append(f"{label}: file is missing")
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        problems.append(f"{label}: {where}: not valid YAML ({getattr(error, 'problem', error)})")
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{label}: cannot be read ({error})")
        return None
    if data is None:
        problems.append(f"{label}: file is empty")
    return data


def _check(
    spec: type[_Spec], path: Path, data: Any, problems: list[str], context: dict[str, Any] | None = None
) -> _Spec | None:
    """`data` (None: unreadable, already reported) validated as `spec`; its problems added to `problems`."""
    if data is None:
        return None
    try:
        return spec.model_validate(data, context=context)
    except ValidationError as error:
        problems.extend(f"{path}: {line}" for line in _explain(spec, error))
        return None


def _explain(spec: type[BaseModel], error: ValidationError) -> list[str]:
    """Each of pydantic's errors as `<key path>: <what is wrong>`, unknown keys of a mapping first."""
    lines = []
    for detail in _unknown_keys_first(error.errors()):
        loc, context = list(detail["loc"]), detail.get("ctx") or {}
        if loc and loc[-1] == "[key]":  # the problem is the name of a mapping's entry
            loc.pop()
        if context.get("key"):
            loc[-1] = context["key"]
        kind_of = detail["type"]
        if kind_of == WORKFLOW_ERROR:
            message = str(context["problem"])
        elif kind_of in ("model_type", "dict_type"):
            message = f"must be a mapping, not {kind(detail['input'])}"
        elif kind_of == "missing":
            message = MISSING.get(str(loc[-1]), "is required")
        elif kind_of == "extra_forbidden":
            expected = ", ".join(sorted(_spec_at(spec, loc[:-1]).model_fields))
            message = f"is not a known setting (expected one of: {expected})"
        else:  # not raised by the specs; kept to one line all the same
            message = " ".join(detail["msg"].split())
        lines.append(f"{_key_path(loc, top_level_key=kind_of == 'extra_forbidden')}: {message}")
    return lines


def _unknown_keys_first(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """Pydantic reports a mapping's unknown keys after its other problems; admins read them first (a
    misspelt key explains the "is required" below it). A problem with the entry's own name stays first."""
    ordered: list[ErrorDetails] = []
    for detail in details:
        if detail["type"] != "extra_forbidden":
            ordered.append(detail)
            continue
        parent = detail["loc"][:-1]

        def inside(other: ErrorDetails, parent: tuple[int | str, ...] = parent) -> bool:
            loc = other["loc"]
            if loc[: len(parent)] != parent or loc == (*parent, "[key]"):
                return False
            return not (other["type"] == "extra_forbidden" and loc[:-1] == parent)

        at = next((index for index, other in enumerate(ordered) if inside(other)), len(ordered))
        ordered.insert(at, detail)
    return ordered


def _spec_at(spec: Any, loc: list[int | str]) -> type[BaseModel]:
    """The spec of the mapping at `loc` inside `spec` (stepping over list indexes and mapping keys)."""
    for part in loc:
        if isinstance(spec, type) and issubclass(spec, BaseModel):
            spec = _present(spec.model_fields[str(part)].annotation)
        else:
            spec = _present(get_args(spec)[-1])
    return spec


def _present(annotation: Any) -> Any:
    """An optional setting's type without its None (`BreakGlassSpec | None` is a BreakGlassSpec)."""
    options = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(options) == 1:
        return options[0]
    return annotation


def _key_path(loc: list[int | str], top_level_key: bool = False) -> str:
    """`models[0].announce_channels[1]`; the file itself is `(top)`, and an unknown key in it `(top).x`."""
    if not loc:
        return "(top)"
    path = f"(top).{loc[0]}" if top_level_key and len(loc) == 1 else str(loc[0])
    return path + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])


def slack_warnings(catalog: Catalog, directory: Path) -> list[str]:
    """Where a valid catalog runs into a Slack limit, as `<file>: <key path>: <what people will see>`.

    Limits (Block Kit reference, docs.slack.dev/reference/block-kit): a select menu holds 100 options,
    option text is cut at 75 characters, a message holds 50 blocks. Slugs need no warning: they are
    option values (150 characters at most) and the loader already refuses any longer than 64.
    """
    # The labels the forms really show; imported here so that loading workflows stays free of Slack.
    from bot.slack.options import directive_label, request_label

    models_file, policy_file = directory / "models.yaml", directory / "policy.yaml"
    warnings: list[str] = []
    count = len(catalog.models)
    if count > ids.SELECT_OPTIONS_MAX:
        warnings.append(
            f"{models_file}: models: {count} models are more than a Slack menu holds "
            f"({ids.SELECT_OPTIONS_MAX}): the request and directive forms show a search box instead of a "
            "list, and people type part of a model's name or slug to find it"
        )
    if count > MODELS_LISTED:
        warnings.append(
            f"{models_file}: models: `/access models` lists the first {MODELS_LISTED} of {count} models "
            "(a Slack message holds 50 blocks); the forms still offer every model"
        )
    # models keeps the order of models.yaml, so its position is the index an admin looks for.
    for index, model in enumerate(catalog.models.values()):
        for form, label in (("request", request_label(model)), ("directive", directive_label(model))):
            if len(label) > ids.OPTION_TEXT_MAX:
                warnings.append(
                    f"{models_file}: models[{index}].name: the {form} form's label '{label}' is "
                    f"{len(label)} characters; Slack shows at most {ids.OPTION_TEXT_MAX}, so it is cut "
                    f"to '{clip(label, ids.OPTION_TEXT_MAX)}'"
                )
    offered = sorted({d for model in catalog.models.values() for d in catalog.durations_for(model)})
    if len(offered) > ids.SELECT_OPTIONS_MAX:
        dropped = offered[ids.SELECT_OPTIONS_MAX :]
        shown = ", ".join(compact_duration(int(d.total_seconds())) for d in dropped[:5])
        more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
        warnings.append(
            f"{policy_file}: policy.duration_choices: with each model's default_duration, the request "
            f"form would offer {len(offered)} durations; a Slack menu holds {ids.SELECT_OPTIONS_MAX}, so "
            f"the longest are left out ({shown}{more}); people can still ask for them with "
            "`/access request <model> <duration> <why>`"
        )
    return warnings
