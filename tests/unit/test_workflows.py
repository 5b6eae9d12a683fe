"""Loading workflows/: the shipped catalog, and every problem in a broken copy reported as
`<file>: <key path>: <message>`, all at once."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.catalog import MANAGER, Catalog, StepRule
from bot.workflows import FILES, MODELS_LISTED, WorkflowError, load_catalog, slack_warnings

SHIPPED = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


def copy_with(tmp_path: Path, **files: str | None) -> Path:
    """The shipped workflows copied into tmp_path, with some files replaced (text) or removed (None)."""
    for name in FILES:
        shutil.copy(SHIPPED / name, tmp_path / name)
    for key, text in files.items():
        path = tmp_path / f"{key}.yaml"
        if text is None:
            path.unlink()
        else:
            path.write_text(text, encoding="utf-8")
    return tmp_path


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(WorkflowError) as caught:
        load_catalog(directory)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def edit(name: str, old: str, new: str) -> str:
    text = (SHIPPED / name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in the shipped {name}"
    return text.replace(old, new, 1)


MODEL = """models:
  - slug: lumen-3
    name: Lumen 3
    provider: Lumen Systems
    default_duration: 30d
    max_duration: 90d
    chain: standard
"""


# --- the shipped catalog -------------------------------------------------------------------------


FRONTIER_STEPS = (
    StepRule("Manager", MANAGER, 1),
    StepRule("Model owner", "model-owner", 1),
    StepRule("Export compliance", "export-compliance", 1),
)


@pytest.mark.parametrize(("slug", "name"), [("mythos-5", "Mythos 5"), ("fable-5", "Fable 5")])
def test_frontier_models_go_through_manager_owner_and_export_compliance(
    shipped: Catalog, slug: str, name: str
) -> None:
    model = shipped.model(slug)
    assert model is not None
    assert model.name == name
    assert model.max_duration == timedelta(days=30)
    assert shipped.chain_for(model).steps == FRONTIER_STEPS
    assert len(model.announce_channels) == 1


def test_the_example_shows_both_kinds_of_frontier_model(shipped: Catalog) -> None:
    # Fable 5 is limited to US persons by configuration; Mythos 5 is open until a directive restricts it.
    assert [m.us_persons_only for m in (shipped.models["fable-5"], shipped.models["mythos-5"])] == [
        True,
        False,
    ]


def test_an_ordinary_model_needs_only_the_manager(shipped: Catalog) -> None:
    model = shipped.model("lumen-3")
    assert model is not None
    assert model.us_persons_only is False
    assert shipped.chain_for(model).steps == (StepRule("Manager", MANAGER, 1),)


def test_shipped_policy(shipped: Catalog) -> None:
    policy = shipped.policy
    assert policy.embargoed_countries == frozenset({"CU", "IR", "KP", "SY"})
    assert policy.justification_max_chars == 3000
    assert policy.compliance_role == "export-compliance"
    assert policy.admin_role == "access-admin"
    assert policy.request_ttl == timedelta(days=14)


def test_duration_choices_stop_at_the_models_maximum(shipped: Catalog) -> None:
    model = shipped.model("mythos-5")
    assert model is not None
    assert shipped.durations_for(model) == [timedelta(days=d) for d in (1, 7, 14, 30)]


def test_an_unchanged_copy_loads_the_same(tmp_path: Path, shipped: Catalog) -> None:
    assert load_catalog(copy_with(tmp_path)) == shipped


# --- broken copies: one problem each -------------------------------------------------------------


def test_unknown_chain(tmp_path: Path) -> None:
    models = edit("models.yaml", "chain: standard", "chain: everyday")
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[2].chain: 'everyday' is not defined in chains.yaml "
        "(known: frontier, standard)"
    ]


def test_bad_duration(tmp_path: Path) -> None:
    models = edit("models.yaml", "default_duration: 30d", "default_duration: 30x")
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[2].default_duration: '30x' is not a duration; "
        "write a number and a unit, like 8h, 7d or 2w"
    ]


def test_default_longer_than_max(tmp_path: Path) -> None:
    models = edit("models.yaml", "max_duration: 90d", "max_duration: 7d")
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[2].default_duration: must not be longer than max_duration"
    ]


def test_missing_default_duration(tmp_path: Path) -> None:
    problems = problems_of(copy_with(tmp_path, models=MODEL.replace("    default_duration: 30d\n", "")))
    assert problems == [f"{tmp_path}/models.yaml: models[0].default_duration: is required (like 7d)"]


@pytest.mark.parametrize("line", ["", "    max_duration: 90x\n"], ids=["missing", "unreadable"])
def test_missing_max_duration_is_reported_once(tmp_path: Path, line: str) -> None:
    problems = problems_of(copy_with(tmp_path, models=MODEL.replace("    max_duration: 90d\n", line)))
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path}/models.yaml: models[0].max_duration: ")


@pytest.mark.parametrize("channel", ["ai-models", "#ai-models", "U0AIMODELS", "c0aimodels"])
def test_bad_channel_id(tmp_path: Path, channel: str) -> None:
    models = edit("models.yaml", "announce_channels: [C0AIMODELS]", f'announce_channels: ["{channel}"]')
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[2].announce_channels[0]: '{channel}' is not a channel ID "
        "(like C0123ABCD; copy it from the channel details)"
    ]


def test_unknown_key_lists_the_known_ones(tmp_path: Path) -> None:
    models = edit("models.yaml", "chain: standard", "chain: standard\n    colour: blue")
    [problem] = problems_of(copy_with(tmp_path, models=models))
    assert problem.startswith(
        f"{tmp_path}/models.yaml: models[2].colour: is not a known setting (expected one of: "
    )
    assert "max_duration" in problem


def test_unknown_policy_setting(tmp_path: Path) -> None:
    policy = edit("policy.yaml", "request_ttl: 14d", "request_ttl: 14d\n  request_tll: 7d")
    [problem] = problems_of(copy_with(tmp_path, policy=policy))
    assert problem.startswith(f"{tmp_path}/policy.yaml: policy.request_tll: is not a known setting")


def test_bad_yaml_reports_the_line(tmp_path: Path) -> None:
    policy = "policy:\n  embargoed_countries: [CU\n  contact: x\n"
    [problem] = problems_of(copy_with(tmp_path, policy=policy))
    assert problem.startswith(f"{tmp_path}/policy.yaml: line 3: not valid YAML (")


def test_missing_file(tmp_path: Path) -> None:
    m = tmp_path / "models.yaml"
    assert problems_of(copy_with(tmp_path, chains=None)) == [
        f"{tmp_path}/chains.yaml: file is missing",
        f"{m}: models[0].chain: 'frontier' is not defined in chains.yaml (known: none defined)",
        f"{m}: models[1].chain: 'frontier' is not defined in chains.yaml (known: none defined)",
        f"{m}: models[2].chain: 'standard' is not defined in chains.yaml (known: none defined)",
    ]


def test_missing_directory(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere") == [
        f"{tmp_path}/nowhere: workflows directory not found (set ACCESSBOT_WORKFLOWS_DIR)"
    ]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    directory = copy_with(tmp_path)
    (directory / "policy.yaml").write_bytes(b"policy:\n  contact: \xff\xfe\n")
    [problem] = problems_of(directory)
    assert problem.startswith(f"{tmp_path}/policy.yaml: cannot be read (")


def test_manager_step_with_quorum_2(tmp_path: Path) -> None:
    chains = edit(
        "chains.yaml",
        "      - name: Manager\n        approvers: manager\n",
        "      - name: Manager\n        approvers: manager\n        quorum: 2\n",
    )
    assert problems_of(copy_with(tmp_path, chains=chains)) == [
        f"{tmp_path}/chains.yaml: chains.frontier.steps[0].quorum: "
        "a manager step has one approver; quorum must be 1"
    ]


@pytest.mark.parametrize(
    ("quorum", "message"),
    [
        ("0", "must be between 1 and 10"),
        ("11", "must be between 1 and 10"),
        ("two", "must be a whole number, not text"),
        ("true", "must be a whole number, not true/false"),
    ],
)
def test_bad_quorum(tmp_path: Path, quorum: str, message: str) -> None:
    chains = edit(
        "chains.yaml",
        "approvers: model-owner\n        quorum: 1",
        f"approvers: model-owner\n        quorum: {quorum}",
    )
    assert problems_of(copy_with(tmp_path, chains=chains)) == [
        f"{tmp_path}/chains.yaml: chains.frontier.steps[1].quorum: {message}"
    ]


def test_approvers_must_be_manager_or_a_role(tmp_path: Path) -> None:
    chains = edit("chains.yaml", "approvers: model-owner", "approvers: Model Owners")
    assert problems_of(copy_with(tmp_path, chains=chains)) == [
        f"{tmp_path}/chains.yaml: chains.frontier.steps[1].approvers: 'Model Owners' must be 'manager' or a "
        "directory role name"
    ]


def test_chain_without_steps(tmp_path: Path) -> None:
    chains = (
        "chains:\n  standard:\n    description: Everyday models.\n    steps: []\n  frontier:\n    steps:\n"
        "      - approvers: manager\n"
    )
    assert problems_of(copy_with(tmp_path, chains=chains)) == [
        f"{tmp_path}/chains.yaml: chains.standard.steps: must be a non-empty list of steps",
        f"{tmp_path}/models.yaml: models[2].chain: "
        "'standard' is not defined in chains.yaml (known: frontier)",
    ]


def test_step_names_default_from_the_approvers(tmp_path: Path) -> None:
    chains = (
        "chains:\n  standard:\n    steps:\n      - approvers: manager\n      - approvers: export-compliance\n"
        "  frontier:\n    steps:\n      - approvers: manager\n"
    )
    catalog = load_catalog(copy_with(tmp_path, chains=chains))
    assert [s.name for s in catalog.chains["standard"].steps] == ["Manager", "Export compliance"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("UK", "'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?"),
        ("ir", "'ir' must be upper case (IR)"),
        ("XX", "'XX' is not an ISO 3166-1 alpha-2 country code"),
    ],
)
def test_bad_embargo_code(tmp_path: Path, code: str, message: str) -> None:
    policy = edit(
        "policy.yaml", "embargoed_countries: [CU, IR, KP, SY]", f"embargoed_countries: [CU, {code}]"
    )
    assert problems_of(copy_with(tmp_path, policy=policy)) == [
        f"{tmp_path}/policy.yaml: policy.embargoed_countries[1]: {message}"
    ]


def test_embargoing_norway_unquoted_is_explained(tmp_path: Path) -> None:
    policy = edit("policy.yaml", "embargoed_countries: [CU, IR, KP, SY]", "embargoed_countries: [CU, NO]")
    [problem] = problems_of(copy_with(tmp_path, policy=policy))
    assert "False" not in problem
    assert "quote" in problem


def test_embargo_must_be_a_list(tmp_path: Path) -> None:
    policy = edit("policy.yaml", "embargoed_countries: [CU, IR, KP, SY]", "embargoed_countries: CU")
    assert problems_of(copy_with(tmp_path, policy=policy)) == [
        f"{tmp_path}/policy.yaml: policy.embargoed_countries: must be a list of ISO 3166-1 alpha-2 codes"
    ]


def test_justification_minimum_over_maximum(tmp_path: Path) -> None:
    policy = edit("policy.yaml", "justification_min_chars: 20", "justification_min_chars: 3000")
    policy = policy.replace("justification_max_chars: 3000", "justification_max_chars: 100")
    assert problems_of(copy_with(tmp_path, policy=policy)) == [
        f"{tmp_path}/policy.yaml: policy.justification_min_chars: "
        "must not be more than justification_max_chars"
    ]


def test_justification_maximum_cannot_pass_slacks_limit(tmp_path: Path) -> None:
    policy = edit("policy.yaml", "justification_max_chars: 3000", "justification_max_chars: 5000")
    assert problems_of(copy_with(tmp_path, policy=policy)) == [
        f"{tmp_path}/policy.yaml: policy.justification_max_chars: must be between 1 and 3000"
    ]


def test_bad_model_status(tmp_path: Path) -> None:
    models = edit("models.yaml", "status: available", "status: restricted")
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[0].status: must be one of available, suspended, not 'restricted'"
    ]


def test_repeated_slug(tmp_path: Path) -> None:
    models = edit("models.yaml", "slug: fable-5", "slug: mythos-5")
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[1].slug: 'mythos-5' is used by another model"
    ]


def test_models_must_be_a_non_empty_list(tmp_path: Path) -> None:
    assert problems_of(copy_with(tmp_path, models="models: []\n")) == [
        f"{tmp_path}/models.yaml: models: must be a non-empty list of models"
    ]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems_of(copy_with(tmp_path, chains="- standard\n"))[0] == (
        f"{tmp_path}/chains.yaml: (top): must be a mapping, not a list"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    policy = "polcy:\n  embargoed_countries: []\n"
    assert problems_of(copy_with(tmp_path, policy=policy)) == [
        f"{tmp_path}/policy.yaml: (top).polcy: is not a known setting (expected one of: policy)",
        f"{tmp_path}/policy.yaml: policy.embargoed_countries: "
        "is required (write [] if no country is embargoed)",
    ]


def test_an_entry_that_is_not_a_mapping_is_one_problem(tmp_path: Path) -> None:
    models = MODEL + "  - lumen-4\n"
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[1]: must be a mapping, not text"
    ]


def test_a_bad_chain_name_comes_before_the_chains_own_problems(tmp_path: Path) -> None:
    chains = edit("chains.yaml", "  standard:\n", "  Standard:\n    colour: blue\n")
    assert problems_of(copy_with(tmp_path, chains=chains)) == [
        f"{tmp_path}/chains.yaml: chains.Standard: chain names must be lower-case letters, digits and dashes",
        f"{tmp_path}/chains.yaml: chains.Standard.colour: is not a known setting "
        "(expected one of: description, steps)",
        f"{tmp_path}/models.yaml: models[2].chain: 'standard' is not defined in chains.yaml "
        "(known: Standard, frontier)",
    ]


def test_empty_models_file_is_a_problem(tmp_path: Path) -> None:
    problems_of(copy_with(tmp_path, models=""))


def test_empty_policy_file_is_a_problem_not_a_silent_default(tmp_path: Path) -> None:
    # An empty policy must not quietly mean "nothing is embargoed".
    assert f"{tmp_path}/policy.yaml: file is empty" in problems_of(
        copy_with(tmp_path, policy="# nothing set\n")
    )


def test_omitting_the_embargo_list_is_a_problem(tmp_path: Path) -> None:
    problems = problems_of(copy_with(tmp_path, policy="policy:\n  justification_min_chars: 20\n"))
    assert (
        f"{tmp_path}/policy.yaml: policy.embargoed_countries: "
        "is required (write [] if no country is embargoed)" in problems
    )


def test_policy_settings_default_when_not_given(tmp_path: Path) -> None:
    catalog = load_catalog(copy_with(tmp_path, policy="policy:\n  embargoed_countries: []\n"))
    assert catalog.policy.justification_min_chars == 20
    assert catalog.policy.admin_role == "access-admin"
    assert catalog.policy.embargoed_countries == frozenset()


# --- several problems at once --------------------------------------------------------------------


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    models = (
        "models:\n"
        "  - slug: Lumen 3\n"
        "    name: Lumen 3\n"
        "    provider: Lumen Systems\n"
        "    default_duration: 30d\n"
        "    max_duration: 7d\n"
        "    chain: everyday\n"
        "    announce_channels: [ai-models]\n"
        "    us_persons_only: maybe\n"
    )
    policy = "policy:\n  embargoed_countries: [UK]\n  request_ttl: soon\n"
    problems = problems_of(copy_with(tmp_path, models=models, policy=policy))
    m, p = f"{tmp_path}/models.yaml", f"{tmp_path}/policy.yaml"
    assert problems == [
        f"{p}: policy.embargoed_countries[0]: 'UK' is not an ISO 3166-1 alpha-2 code; did you mean GB?",
        f"{p}: policy.request_ttl: 'soon' is not a duration; write a number and a unit, like 8h, 7d or 2w",
        f"{m}: models[0].slug: 'Lumen 3' must be lower-case letters, digits, dots and dashes",
        f"{m}: models[0].default_duration: must not be longer than max_duration",
        f"{m}: models[0].chain: 'everyday' is not defined in chains.yaml (known: frontier, standard)",
        f"{m}: models[0].announce_channels[0]: 'ai-models' is not a channel ID "
        "(like C0123ABCD; copy it from the channel details)",
        f"{m}: models[0].us_persons_only: must be true or false, not text",
    ]


def test_a_minimal_valid_set_loads(tmp_path: Path) -> None:
    chains = "chains:\n  standard:\n    steps:\n      - approvers: manager\n"
    (tmp_path / "models.yaml").write_text(MODEL, encoding="utf-8")
    (tmp_path / "chains.yaml").write_text(chains, encoding="utf-8")
    (tmp_path / "policy.yaml").write_text("policy:\n  embargoed_countries: []\n", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    model = catalog.model("lumen-3")
    assert model is not None
    assert model.status == "available"
    assert model.announce_channels == ()
    assert model.us_persons_only is False


# --- valid, but past a Slack limit: warnings --------------------------------------------------------


def many_models(count: int, name: str = "Model {n:03d}", provider: str = "Lumen Systems") -> str:
    lines = ["models:"]
    for n in range(count):
        lines += [
            f"  - slug: model-{n:03d}",
            f"    name: {name.format(n=n)}",
            f"    provider: {provider}",
            "    default_duration: 7d",
            "    max_duration: 30d",
            "    chain: standard",
        ]
    return "\n".join(lines) + "\n"


def warnings_of(directory: Path) -> list[str]:
    return slack_warnings(load_catalog(directory), directory)


def test_the_shipped_catalog_fits_slack(tmp_path: Path) -> None:
    assert warnings_of(copy_with(tmp_path)) == []


def test_more_models_than_a_menu_holds_says_the_forms_search(tmp_path: Path) -> None:
    directory = copy_with(tmp_path, models=many_models(101))
    assert warnings_of(directory) == [
        f"{directory}/models.yaml: models: 101 models are more than a Slack menu holds (100): the request "
        "and directive forms show a search box instead of a list, and people type part of a model's name "
        "or slug to find it",
        f"{directory}/models.yaml: models: `/access models` lists the first 45 of 101 models (a Slack "
        "message holds 50 blocks); the forms still offer every model",
    ]


def test_a_100_model_catalog_still_fits_a_menu(tmp_path: Path) -> None:
    warnings = warnings_of(copy_with(tmp_path, models=many_models(100)))
    assert len(warnings) == 1 and "`/access models` lists the first 45 of 100" in warnings[0]
    assert warnings_of(copy_with(tmp_path, models=many_models(MODELS_LISTED))) == []


def test_models_listed_matches_what_access_models_shows(tmp_path: Path) -> None:
    from bot.render import Renderer

    renderer = Renderer(Path(__file__).resolve().parents[2] / "templates")
    entry = {
        "slug": "m",
        "name": "M",
        "provider": "P",
        "status": "available",
        "default_duration": "7 days",
        "max_duration": "30 days",
        "chain": ["Manager"],
        "us_persons_only": False,
    }
    shown = renderer.render("models", models=[entry] * (MODELS_LISTED + 1))
    assert json_text(shown).count("*M*") == MODELS_LISTED and "…and 1 more." in json_text(shown)


def json_text(payload: dict[str, object]) -> str:
    import json

    return json.dumps(payload, ensure_ascii=False)


def test_labels_slack_would_cut_are_named_with_what_people_will_see(tmp_path: Path) -> None:
    name = "Lumen Ultra Long Context Reasoning Edition 2026 Preview"  # 55 characters: valid
    models = MODEL.replace("name: Lumen 3", f"name: {name}").replace(
        "provider: Lumen Systems", "provider: Lumen Systems International"
    )
    directory = copy_with(tmp_path, models=models)
    label = f"{name} (Lumen Systems International)"
    assert len(label) == 85
    assert warnings_of(directory) == [
        f"{directory}/models.yaml: models[0].name: the request form's label '{label}' is 85 characters; "
        f"Slack shows at most 75, so it is cut to '{label[:74].rstrip()}…'"
    ]
    # The directive form shows "Name (slug)": a long slug pushes that past 75 as well.
    long_slug = MODEL.replace("name: Lumen 3", f"name: {name}").replace(
        "slug: lumen-3", "slug: lumen-ultra-long-context-2026"
    )
    [warned] = warnings_of(copy_with(tmp_path, models=long_slug))
    assert f"models[0].name: the directive form's label '{name} (lumen-ultra-long-context-2026)'" in warned
    assert f"is {len(name) + 32} characters; Slack shows at most 75" in warned


def test_slugs_longer_than_an_option_value_cannot_load(tmp_path: Path) -> None:
    """Slack option values hold 150 characters; the loader refuses slugs long before that."""
    models = MODEL.replace("slug: lumen-3", "slug: " + "l" * 151)
    problems = problems_of(copy_with(tmp_path, models=models))
    assert any(p.endswith("models[0].slug: must be at most 64 characters") for p in problems)


def test_more_durations_than_a_menu_holds_names_those_left_out(tmp_path: Path) -> None:
    choices = ", ".join(f"{hours}h" for hours in range(1, 106))  # 105 choices, all under 30 days
    policy = edit(
        "policy.yaml", "duration_choices: [1d, 7d, 14d, 30d, 90d]", f"duration_choices: [{choices}]"
    )
    directory = copy_with(tmp_path, policy=policy)
    catalog = load_catalog(directory)
    offered = {d for m in catalog.models.values() for d in catalog.durations_for(m)}
    assert len(offered) > 100
    warnings = slack_warnings(catalog, directory)
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"{directory}/policy.yaml: policy.duration_choices: with each model's default_duration, the "
        f"request form would offer {len(offered)} durations; a Slack menu holds 100, so the longest are "
        "left out ("
    )
    assert warnings[0].endswith(
        "people can still ask for them with `/access request <model> <duration> <why>`"
    )


# --- gateway_models -----------------------------------------------------------------------------------


def test_gateways_may_call_a_model_by_its_slug_or_a_listed_name(shipped: Catalog) -> None:
    mythos = shipped.model("mythos-5")
    assert mythos is not None and mythos.gateway_models == ("mythic/mythos-5", "mythos-5-2026-11")
    assert shipped.gateway_model("mythic/mythos-5") is mythos
    assert shipped.gateway_model("MYTHOS-5") is mythos  # slugs in any case, as everywhere
    assert shipped.gateway_model("Mythic/Mythos-5") is None  # provider names exactly as listed
    assert shipped.gateway_model("mythos") is None


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        ("[fable-5]", "models[1].slug: 'fable-5' is a gateway name of model 'mythos-5' (as 'fable-5')"),
        # A slug is matched in any case, so a name that differs from one only in case is refused too.
        ("[Fable-5]", "models[1].slug: 'fable-5' is a gateway name of model 'mythos-5' (as 'Fable-5')"),
        ("[mythos-5]", "models[0].gateway_models: 'mythos-5' is the model's own slug, which gateways may "
         "always use in any case"),
        ("[MYTHOS-5]", "models[0].gateway_models: 'MYTHOS-5' is the model's own slug, which gateways may "
         "always use in any case"),
        ("[a/b, a/b]", "models[0].gateway_models: 'a/b' is already a gateway name of model 'mythos-5'"),
        ('["mythic mythos"]', "models[0].gateway_models[0]: 'mythic mythos' is not a model name: at most 200 "
         "characters, without spaces"),
        ("[7]", "models[0].gateway_models[0]: must hold model names as text, not a number"),
        ("mythic/mythos-5", "models[0].gateway_models: must be a list of model names, as gateways send them"),
    ],
)  # fmt: skip
def test_bad_gateway_models(tmp_path: Path, names: str, problem: str) -> None:
    models = edit(
        "models.yaml", "gateway_models: [mythic/mythos-5, mythos-5-2026-11]", f"gateway_models: {names}"
    )
    assert problems_of(copy_with(tmp_path, models=models)) == [f"{tmp_path}/models.yaml: {problem}"]


@pytest.mark.parametrize("name", ["mythos-5", "Mythos-5"])
def test_a_gateway_name_that_is_an_earlier_models_slug(tmp_path: Path, name: str) -> None:
    models = edit(
        "models.yaml",
        "announce_channels: [C0FABLE5]",
        f"announce_channels: [C0FABLE5]\n    gateway_models: [{name}]",
    )
    assert problems_of(copy_with(tmp_path, models=models)) == [
        f"{tmp_path}/models.yaml: models[1].gateway_models: '{name}' is the slug of another model (slugs are "
        "matched in any case)"
    ]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "expiry_warnings: [5000w]",
            "policy.expiry_warnings: 35000 days is not between a second and 366 days",
        ),
        ("expiry_warnings: [1d, 24h]", "policy.expiry_warnings: names the same lead time twice"),
        ("approval_reminder_after: 999999w", "policy.approval_reminder_after: must be at most 366 days"),
        (
            "approval_escalate_after: 30d",
            "policy.approval_escalate_after: must be shorter than request_ttl (14 days), or it never happens",
        ),
        (
            "approval_reminders: 2.5",
            "policy.approval_reminders: must be a whole number, not a decimal number",
        ),
        (
            "approval_escalate_to: Access Admins",
            "policy.approval_escalate_to: 'Access Admins' must be lower-case",
        ),
    ],
)
def test_lifecycle_timings_that_could_never_happen_are_refused(
    tmp_path: Path, setting: str, message: str
) -> None:
    policy = edit("policy.yaml", "justification_min_chars: 20", f"justification_min_chars: 20\n  {setting}")
    problems = problems_of(copy_with(tmp_path, policy=policy))
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path}/policy.yaml: {message}"), problems


def test_a_model_warning_no_shorter_than_its_longest_grant_is_refused(tmp_path: Path) -> None:
    models = edit("models.yaml", "max_duration: 30d", "max_duration: 30d\n    expiry_warnings: [30d]")
    (problem,) = problems_of(copy_with(tmp_path, models=models))
    assert "expiry_warnings: 30 days is not shorter than max_duration (30 days)" in problem


def test_lifecycle_settings_load(tmp_path: Path) -> None:
    policy = edit(
        "policy.yaml",
        "justification_min_chars: 20",
        "justification_min_chars: 20\n  expiry_warnings: [7d, 1d]\n  approval_reminders: 3\n"
        "  approval_escalate_to: export-compliance",
    )
    catalog = load_catalog(copy_with(tmp_path, policy=policy))
    assert catalog.policy.expiry_warnings == (timedelta(days=7), timedelta(days=1))
    assert catalog.reminders_for(None).reminders == 3 and catalog.escalation_role() == "export-compliance"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "break_glass: {roles: [model-owner], max_duraton: 4h}",
            "break_glass.max_duraton: is not a known setting",
        ),
        ("break_glass: {roles: [model-owner, model-owner], max_duration: 4h}", "names the same role twice"),
        (
            "break_glass: {roles: [model-owner], max_duration: 2d}",
            "must be longer than zero and at most 1 day",
        ),
    ],
)
def test_break_glass_settings_are_checked(tmp_path: Path, setting: str, message: str) -> None:
    models = edit("models.yaml", "max_duration: 30d", f"max_duration: 30d\n    {setting}")
    problems = problems_of(copy_with(tmp_path, models=models))
    assert any(message in problem for problem in problems), problems


def test_break_glass_may_not_outlast_the_models_own_maximum(tmp_path: Path) -> None:
    models = edit(
        "models.yaml",
        "max_duration: 30d",
        "max_duration: 2h\n    break_glass: {roles: [on-call], max_duration: 4h}",
    )
    models = models.replace(
        "default_duration: 7d\n    max_duration: 2h", "default_duration: 1h\n    max_duration: 2h", 1
    )
    (problem,) = problems_of(copy_with(tmp_path, models=models))
    assert "max_duration 4 hours is longer than the model's own max_duration (2 hours)" in problem, problem
