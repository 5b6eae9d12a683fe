"""Model search for the external selects that replace the static menus past 100 models.

- Every model of a big catalog can be found by typing part of its slug or name; the best match comes
  first, and no answer holds more than Slack's 100 options, 75-character labels or 150-character values.
- The search answers show the same labels as the static menus of a small catalog (the templates).
- Junk from the options URL (a number, a list, no value, an essay) gets an empty list, never an error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain.catalog import Catalog, Chain, Model, StepRule
from bot.render import Renderer
from bot.slack import ids
from bot.slack.options import directive_label, model_options, query_of, request_label
from tests.unit.template_data import TEMPLATES_DIR

RENDERER = Renderer(TEMPLATES_DIR)
CHAIN = Chain("standard", (StepRule("Manager", "manager"),))


def model(slug: str, name: str, provider: str = "Lumen Systems", status: str = "available") -> Model:
    return Model(
        slug=slug,
        name=name,
        provider=provider,
        status=status,
        default_duration=timedelta(days=7),
        max_duration=timedelta(days=30),
        chain="standard",
    )


def catalog_of(*models: Model) -> Catalog:
    return Catalog(models={m.slug: m for m in models}, chains={"standard": CHAIN})


def big_catalog(count: int) -> Catalog:
    # Names 60 characters long (the most workflows.py accepts), so request labels overflow 75.
    return catalog_of(
        *(
            model(f"model-{n:03d}", f"Model {n:03d} " + "x" * 50, provider="A Provider With A Long Name")
            for n in range(count)
        )
    )


def entries(catalog: Catalog) -> list[dict[str, Any]]:
    """What catalog_entries gives the templates, for the fields the model menus read."""
    ordered = sorted(catalog.models.values(), key=lambda m: m.name.lower())
    return [{"slug": m.slug, "name": m.name, "provider": m.provider, "status": m.status} for m in ordered]


def slugs(options: list[dict[str, Any]]) -> list[str]:
    return [o["value"] for o in options]


def test_every_model_of_a_big_catalog_can_be_found_and_comes_first() -> None:
    catalog = big_catalog(250)
    for slug in catalog.models:
        for action in (ids.REQUEST_MODEL_ACTION, ids.DIRECTIVE_MODELS_ACTION):
            assert slugs(model_options(catalog, action, slug))[0] == slug
    # Typing part of the name finds it too, whatever the case and spacing.
    assert slugs(model_options(catalog, ids.REQUEST_MODEL_ACTION, "  MODEL   249 "))[0] == "model-249"


def test_answers_stay_within_slacks_option_limits() -> None:
    catalog = big_catalog(250)
    everything = model_options(catalog, ids.REQUEST_MODEL_ACTION, "")
    assert len(everything) == 100 == ids.SELECT_OPTIONS_MAX
    # The first page is the catalog from the top, as the static menu would list it.
    assert slugs(everything) == [f"model-{n:03d}" for n in range(100)]
    for action in (ids.REQUEST_MODEL_ACTION, ids.DIRECTIVE_MODELS_ACTION):
        for option in model_options(catalog, action, "model"):
            assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
            assert option["text"]["type"] == "plain_text"
    cut = model_options(catalog, ids.REQUEST_MODEL_ACTION, "model-007")[0]["text"]["text"]
    assert cut.startswith("Model 007 xxx") and cut.endswith("…") and len(cut) == 75


def test_best_matches_come_first() -> None:
    catalog = catalog_of(
        model("lumen-3", "Lumen 3"),
        model("lumen-3-mini", "Lumen 3 Mini"),
        model("mythos-5", "Mythos 5", "Mythic Labs"),
        model("pro-lumen", "Pro Lumen"),
        model("fable-5", "Fable 5", "Fable AI"),
    )
    assert slugs(model_options(catalog, ids.REQUEST_MODEL_ACTION, "lumen-3")) == ["lumen-3", "lumen-3-mini"]
    # Prefix of the slug or name, then a word of the name, then anywhere.
    assert slugs(model_options(catalog, ids.REQUEST_MODEL_ACTION, "lum")) == [
        "lumen-3",
        "lumen-3-mini",
        "pro-lumen",
    ]
    assert slugs(model_options(catalog, ids.REQUEST_MODEL_ACTION, "mini lumen")) == ["lumen-3-mini"]
    assert model_options(catalog, ids.REQUEST_MODEL_ACTION, "gpt") == []
    # The provider is in the label, not in the search: "Mythic" is not a model name.
    assert model_options(catalog, ids.REQUEST_MODEL_ACTION, "labs") == []


def test_search_labels_match_the_static_menus() -> None:
    """The same model reads the same in a 100-model static menu and in a 101-model search answer."""
    catalog = big_catalog(100)
    catalog = catalog_of(*catalog.models.values(), model("legacy-2", "Legacy 2", status="suspended"))
    small = catalog_of(*list(catalog.models.values())[1:])  # 100 models: still a static menu
    view = RENDERER.render(
        "request_modal",
        models=entries(small),
        durations=[],
        initial_model=None,
        min_justification=20,
        max_justification=3000,
    )
    static = view["blocks"][1]["element"]
    assert static["type"] == "static_select"
    assert static["options"] == model_options(small, ids.REQUEST_MODEL_ACTION, "")
    assert "Legacy 2 (Lumen Systems) · suspended" in [o["text"]["text"] for o in static["options"]]
    form = RENDERER.render("directive_modal", models=entries(small))
    menu = next(b["element"] for b in form["blocks"] if b.get("block_id") == ids.DIRECTIVE_MODELS_BLOCK)
    assert menu["type"] == "multi_static_select"
    assert menu["options"] == model_options(small, ids.DIRECTIVE_MODELS_ACTION, "")
    # One more model and both forms search instead of listing.
    big = RENDERER.render("directive_modal", models=entries(catalog))
    menu = next(b["element"] for b in big["blocks"] if b.get("block_id") == ids.DIRECTIVE_MODELS_BLOCK)
    assert menu["type"] == "multi_external_select" and "options" not in menu
    assert request_label(catalog.models["legacy-2"]) == "Legacy 2 (Lumen Systems) · suspended"
    assert directive_label(catalog.models["legacy-2"]) == "Legacy 2 (legacy-2)"


@pytest.mark.parametrize(
    "payload",
    [
        {"value": 42},
        {"value": ["lumen"]},
        {"value": {"text": "lumen"}},
        {"value": None},
        {},
        "lumen",
        None,
    ],
)
def test_junk_payloads_get_no_options(payload: Any) -> None:
    assert query_of(payload) is None


def test_an_essay_is_clipped_before_any_work() -> None:
    assert query_of({"value": "lumen " * 10_000}) == ("lumen " * 10_000)[:100]
    catalog = big_catalog(250)
    assert model_options(catalog, ids.REQUEST_MODEL_ACTION, "x" * 100_000) == []


def test_an_unknown_menu_gets_no_options() -> None:
    assert model_options(big_catalog(3), "someone_elses_select", "model") == []
