"""Loading and checking workflows/ (models.yaml, chains.yaml, policy.yaml) into a Catalog.

Every problem is reported as `<file>: <key path>: <what is wrong>`, all at once, so an admin can fix the
files in one go. `accessbot workflows check` prints them; `serve` refuses to start while any remain.

`slack_warnings` names, in the same form, valid settings that run into a Slack limit (a menu holds 100
options, an option label 75 characters): nothing breaks, but people will see something the admin may not
expect, so `accessbot workflows check` prints them as warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.domain.catalog import MANAGER, MODEL_STATUSES, Catalog, Chain, Model, Policy, StepRule
from bot.domain.countries import country_problem
from bot.domain.durations import DurationError, compact_duration, parse_duration
from bot.render import clip
from bot.slack import ids

FILES = ("models.yaml", "chains.yaml", "policy.yaml")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ROLE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,20}$")
# How many models `/access models` lists before "…and N more" (templates/models.json.j2): a message holds
# 50 blocks (docs.slack.dev/reference/block-kit/blocks), and the header and footer need some.
MODELS_LISTED = 45


class WorkflowError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class _Checker:
    file: str
    problems: list[str] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{self.file}: {path}: {message}")

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {_kind(value)}")
            return {}
        return value

    def text(self, data: dict[str, Any], key: str, path: str, required: bool = True, limit: int = 200) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", "is required")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{path}.{key}", f"must be non-empty text, not {_kind(value)}")
            return ""
        if len(value) > limit:
            self.problem(f"{path}.{key}", f"must be at most {limit} characters")
        return value.strip()

    def duration(
        self, data: dict[str, Any], key: str, path: str, default: timedelta | None = None
    ) -> timedelta:
        value = data.get(key)
        if value is None:
            if default is None:
                self.problem(f"{path}.{key}", "is required (like 7d)")
                return timedelta(days=1)
            return default
        try:
            return parse_duration(str(value))
        except DurationError as error:
            self.problem(f"{path}.{key}", str(error))
            return default or timedelta(days=1)

    def integer(
        self, data: dict[str, Any], key: str, path: str, default: int, minimum: int, maximum: int
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{path}.{key}", f"must be a whole number, not {_kind(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem(f"{path}.{key}", f"must be between {minimum} and {maximum}")
            return default
        return value

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{path}.{key}", f"must be true or false, not {_kind(value)}")
            return default
        return value

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                self.problem(
                    f"{path}.{key}", f"is not a known setting (expected one of: {', '.join(sorted(allowed))})"
                )


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number"}.get(
        type(value), type(value).__name__
    )


def _read(directory: Path, name: str, problems: list[str]) -> Any:
    path = directory / name
    label = str(path)
    if not path.is_file():
        problems.append(f"{label}: file is missing")
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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


def load_catalog(directory: Path) -> Catalog:
    """Read and check every file; raises WorkflowError listing each problem."""
    problems: list[str] = []
    if not directory.is_dir():
        raise WorkflowError([f"{directory}: workflows directory not found (set ACCESSBOT_WORKFLOWS_DIR)"])
    raw = {name: _read(directory, name, problems) for name in FILES}
    policy = _policy(raw["policy.yaml"], _Checker(str(directory / "policy.yaml"), problems))
    chains = _chains(raw["chains.yaml"], _Checker(str(directory / "chains.yaml"), problems))
    models = _models(raw["models.yaml"], _Checker(str(directory / "models.yaml"), problems), chains)
    if problems:
        raise WorkflowError(problems)
    return Catalog(models=models, chains=chains, policy=policy)


def _policy(data: Any, check: _Checker) -> Policy:
    if data is None:
        return Policy()
    root = check.mapping(data, "(top)")
    check.unknown_keys(root, {"policy"}, "(top)")
    settings = check.mapping(root.get("policy", {}), "policy")
    allowed = {
        "embargoed_countries",
        "justification_min_chars",
        "justification_max_chars",
        "admin_role",
        "compliance_role",
        "request_ttl",
        "duration_choices",
        "contact",
        "directory_contact",
    }
    check.unknown_keys(settings, allowed, "policy")
    defaults = Policy()
    embargoed: set[str] = set()
    countries = settings.get("embargoed_countries")
    if countries is None:
        # Fail closed: an omitted list must not silently mean "no embargo".
        check.problem("policy.embargoed_countries", "is required (write [] if no country is embargoed)")
    elif not isinstance(countries, list):
        check.problem("policy.embargoed_countries", "must be a list of ISO 3166-1 alpha-2 codes")
    else:
        for index, code in enumerate(countries):
            if isinstance(code, bool):
                check.problem(
                    f"policy.embargoed_countries[{index}]",
                    'YAML reads NO, YES, ON and OFF as true/false: quote the code, e.g. "NO"',
                )
                continue
            problem = country_problem(str(code))
            if problem:
                check.problem(f"policy.embargoed_countries[{index}]", problem)
            else:
                embargoed.add(str(code))
    minimum = check.integer(
        settings, "justification_min_chars", "policy", defaults.justification_min_chars, 0, 3000
    )
    maximum = check.integer(
        settings, "justification_max_chars", "policy", defaults.justification_max_chars, 1, 3000
    )
    if minimum > maximum:
        check.problem("policy.justification_min_chars", "must not be more than justification_max_chars")
    roles = {}
    for key in ("admin_role", "compliance_role"):
        value = check.text(settings, key, "policy", required=False) or getattr(defaults, key)
        if not _ROLE.match(value):
            check.problem(f"policy.{key}", f"'{value}' must be lower-case letters, digits and dashes")
        roles[key] = value
    choices: list[timedelta] = []
    raw_choices = settings.get("duration_choices", None)
    if raw_choices is None:
        choices = list(defaults.duration_choices)
    elif not isinstance(raw_choices, list) or not raw_choices:
        check.problem("policy.duration_choices", "must be a non-empty list of durations (like [1d, 7d, 30d])")
    else:
        for index, value in enumerate(raw_choices):
            try:
                choices.append(parse_duration(str(value)))
            except DurationError as error:
                check.problem(f"policy.duration_choices[{index}]", str(error))
    return Policy(
        embargoed_countries=frozenset(embargoed),
        justification_min_chars=minimum,
        justification_max_chars=maximum,
        admin_role=roles["admin_role"],
        compliance_role=roles["compliance_role"],
        request_ttl=check.duration(settings, "request_ttl", "policy", defaults.request_ttl),
        duration_choices=tuple(sorted(set(choices))),
        contact=check.text(settings, "contact", "policy", required=False) or defaults.contact,
        directory_contact=check.text(settings, "directory_contact", "policy", required=False)
        or defaults.directory_contact,
    )


def _chains(data: Any, check: _Checker) -> dict[str, Chain]:
    if data is None:
        return {}
    root = check.mapping(data, "(top)")
    check.unknown_keys(root, {"chains"}, "(top)")
    chains: dict[str, Chain] = {}
    for name, body in check.mapping(root.get("chains"), "chains").items():
        path = f"chains.{name}"
        if not _SLUG.match(str(name)):
            check.problem(path, "chain names must be lower-case letters, digits and dashes")
        spec = check.mapping(body, path)
        check.unknown_keys(spec, {"description", "steps"}, path)
        steps_raw = spec.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            check.problem(f"{path}.steps", "must be a non-empty list of steps")
            continue
        steps = []
        for index, raw_step in enumerate(steps_raw):
            step_path = f"{path}.steps[{index}]"
            step = check.mapping(raw_step, step_path)
            check.unknown_keys(step, {"name", "approvers", "quorum"}, step_path)
            approvers = check.text(step, "approvers", step_path)
            if approvers and approvers != MANAGER and not _ROLE.match(approvers):
                check.problem(
                    f"{step_path}.approvers", f"'{approvers}' must be 'manager' or a directory role name"
                )
            quorum = check.integer(step, "quorum", step_path, 1, 1, 10)
            if approvers == MANAGER and quorum != 1:
                check.problem(f"{step_path}.quorum", "a manager step has one approver; quorum must be 1")
            default_name = "Manager" if approvers == MANAGER else approvers.replace("-", " ").capitalize()
            name_text = check.text(step, "name", step_path, required=False, limit=100) or default_name
            steps.append(StepRule(name_text, approvers, quorum))
        chains[str(name)] = Chain(str(name), tuple(steps))
    return chains


def _models(data: Any, check: _Checker, chains: dict[str, Chain]) -> dict[str, Model]:
    if data is None:
        return {}
    root = check.mapping(data, "(top)")
    check.unknown_keys(root, {"models"}, "(top)")
    items = root.get("models")
    if not isinstance(items, list) or not items:
        check.problem("models", "must be a non-empty list of models")
        return {}
    allowed = {
        "slug",
        "name",
        "provider",
        "status",
        "default_duration",
        "max_duration",
        "chain",
        "announce_channels",
        "us_persons_only",
        "description",
    }
    models: dict[str, Model] = {}
    for index, raw in enumerate(items):
        path = f"models[{index}]"
        spec = check.mapping(raw, path)
        check.unknown_keys(spec, allowed, path)
        slug = check.text(spec, "slug", path, limit=64)
        if slug and not _SLUG.match(slug):
            check.problem(f"{path}.slug", f"'{slug}' must be lower-case letters, digits, dots and dashes")
        if slug in models:
            check.problem(f"{path}.slug", f"'{slug}' is used by another model")
        name = check.text(spec, "name", path, limit=60)
        provider = check.text(spec, "provider", path, limit=60)
        status = spec.get("status", "available")
        if status not in MODEL_STATUSES:
            check.problem(f"{path}.status", f"must be one of {', '.join(MODEL_STATUSES)}, not '{status}'")
        known = len(check.problems)
        default = check.duration(spec, "default_duration", path)
        maximum = check.duration(spec, "max_duration", path)
        if len(check.problems) == known and default > maximum:
            check.problem(f"{path}.default_duration", "must not be longer than max_duration")
        chain = check.text(spec, "chain", path)
        if chain and chain not in chains:
            known = ", ".join(sorted(chains)) or "none defined"
            check.problem(f"{path}.chain", f"'{chain}' is not defined in chains.yaml (known: {known})")
        channels_raw = spec.get("announce_channels", [])
        channels: list[str] = []
        if not isinstance(channels_raw, list):
            check.problem(f"{path}.announce_channels", "must be a list of channel IDs (like C0123ABCD)")
        else:
            for c_index, channel in enumerate(channels_raw):
                if not isinstance(channel, str) or not _CHANNEL.match(channel):
                    check.problem(
                        f"{path}.announce_channels[{c_index}]",
                        f"'{channel}' is not a channel ID (like C0123ABCD; copy it from the channel details)",
                    )
                else:
                    channels.append(channel)
        models[slug] = Model(
            slug=slug,
            name=name,
            provider=provider,
            status=str(status),
            default_duration=default,
            max_duration=maximum,
            chain=chain,
            announce_channels=tuple(channels),
            us_persons_only=check.boolean(spec, "us_persons_only", path),
            description=check.text(spec, "description", path, required=False, limit=500),
        )
    return models


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
