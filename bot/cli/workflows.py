"""`accessbot workflows check`: validate workflows/ as the bot would load it."""

from __future__ import annotations

import argparse
import sys

from bot.cli.output import safe
from bot.config import Settings


def check(settings: Settings, args: argparse.Namespace) -> int:
    """Print what the catalog holds, after a warning on stderr for each place it runs into a Slack limit
    (bot.workflows.slack_warnings). Invalid workflows raise WorkflowError."""
    from bot.workflows import load_catalog, slack_warnings

    catalog = load_catalog(settings.workflows_dir)
    for warning in slack_warnings(catalog, settings.workflows_dir):
        print(f"warning: {safe(warning)}", file=sys.stderr)
    print(
        f"{safe(settings.workflows_dir)}: OK ({len(catalog.models)} models, {len(catalog.chains)} chains, "
        f"{len(catalog.policy.embargoed_countries)} embargoed countries)"
    )
    return 0
