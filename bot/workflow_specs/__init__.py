"""The declared shape of workflows/ (models.yaml, chains.yaml, policy.yaml, webhooks.yaml), as pydantic
models.

Every check raises a `workflow` error whose text is what the admin reads after `<file>: <key path>:`
(bot/workflows.py adds those and turns pydantic's own errors, such as an unknown key, into the same
form). A valid file becomes the plain domain objects of bot/domain/catalog.py through `to_*()`.

Each key is checked on its own, so one wrong value never hides another; the few checks that compare two
keys sit on the later of the two and read the earlier one from `info.data` (absent when it was wrong).
Checks that need more than one file read the validation context: `chains`, the names chains.yaml
defines, and `slugs`, the slugs seen so far.

The checks of one value each are in values.py; each file's shape in a module of its own (policy.py,
chains.py, models.py, webhooks.py).
"""

from __future__ import annotations

from bot.workflow_specs.chains import ChainsFile, defined_chains
from bot.workflow_specs.models import ModelsFile
from bot.workflow_specs.policy import PolicyFile
from bot.workflow_specs.values import MISSING, WORKFLOW_ERROR, kind
from bot.workflow_specs.webhooks import WebhooksFile

__all__ = [
    "MISSING",
    "WORKFLOW_ERROR",
    "ChainsFile",
    "ModelsFile",
    "PolicyFile",
    "WebhooksFile",
    "defined_chains",
    "kind",
]
