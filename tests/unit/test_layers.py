"""Data flows one way: Slack payload -> listener (bot/slack) -> use case (bot/services) -> outbox -> notifier
(bot/notify) -> Slack. These tests read the imports of every module under bot/ and fail when a layer
reaches a layer it must not know about."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

TEMPLATES_AND_SLACK = ("jinja2", "slack_sdk", "slack_bolt", "bot.render", "bot.slack", "bot.present.mrkdwn")

# layer -> module prefixes it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # Rules and facts: nothing else of the bot, no I/O.
    "domain": ("bot.", "jinja2", "slack_sdk", "slack_bolt", "sqlmodel", "sqlalchemy"),
    # Tables and queries: no use case, message or Slack.
    "store": ("bot.services", "bot.notify", "bot.present", "bot.slack", "bot.render", "bot.cli", "jinja2"),
    # Message data from the state: never rendered here, never a state change.
    "present": ("bot.services", "bot.notify", "bot.slack", "bot.cli", "bot.render", "jinja2", "slack_sdk"),
    # Use cases: they queue messages as data and know nothing of Slack, mrkdwn or Jinja.
    "services": (
        *TEMPLATES_AND_SLACK,
        "bot.cli",
        "bot.notify.compose",
        "bot.notify.sender",
        "bot.notify.delivery",
    ),
    # The notifier renders and sends; it never calls back into a use case or a listener.
    "notify": ("bot.services", "bot.slack", "bot.cli", "bot.runtime"),
    # Listeners call use cases and queue replies; sending is the notifier's.
    "slack": ("bot.cli", "bot.runtime", "bot.notify.sender", "bot.notify.delivery", "bot.notify.compose"),
}


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, absolute (relative imports are not used in bot/)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _reaches(module: str, prefix: str) -> bool:
    return module == prefix.rstrip(".") or module.startswith(prefix if prefix.endswith(".") else prefix + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_must_not_know_about(layer: str) -> None:
    modules = sorted((BOT / layer).rglob("*.py"))
    assert modules, f"bot/{layer} has no modules"
    wrong = [
        f"{path.relative_to(BOT.parent)} imports {module}"
        for path in modules
        for module in sorted(imports_of(path))
        if any(_reaches(module, prefix) for prefix in FORBIDDEN[layer])
        and not _reaches(module, f"bot.{layer}")
    ]
    assert wrong == []


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from bot.render import Renderer\nimport jinja2\n")
    found = imports_of(module)
    assert any(_reaches(m, "bot.render") for m in found)
    assert any(_reaches(m, "jinja2") for m in found)
    assert not any(_reaches(m, "bot.rendering") for m in found)
