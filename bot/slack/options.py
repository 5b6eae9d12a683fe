"""Options for the model pickers when the catalog outgrows a static select.

A static select holds at most 100 options, so with more than 100 models the request form and the
directive form switch to external selects (templates/request_modal.json.j2, directive_modal.json.j2) and
Slack asks this listener for options as the person types: a `block_suggestion` payload with the
element's `action_id` and `block_id` and the typed text in `value`. The answer is
`{"options": [...]}` with at most 100 options, each label at most 75 characters and each value at most
150 (Block Kit reference: "Select menu of external data source" and "Option object",
docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select). Slack gives up
on an answer after 3 seconds, so the work is one pass over the in-memory catalog and never touches the
database.

Labels match the static select's (the templates build the same text), except that a status set by a
directive is not shown here: that needs the database, and the service refuses such a model at
submission with the directive's reason, shown in the form.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.domain.catalog import SEARCH_QUERY_MAX, Catalog, Model
from bot.present.mrkdwn import clip
from bot.slack import ids
from bot.slack.surfaces import Surfaces

log = logging.getLogger(__name__)

# The suffix the request form puts after a model's name for its status (as in request_modal.json.j2).
_STATUS_SUFFIX = {"available": "", "restricted": " · restricted", "suspended": " · suspended"}


def request_label(model: Model, status: str | None = None) -> str:
    """The request form's label for a model: "Name (Provider)", plus its status unless available."""
    status = status or model.status
    return f"{model.name} ({model.provider}){_STATUS_SUFFIX.get(status, ' · ' + status)}"


def directive_label(model: Model) -> str:
    """The directive form's label for a model: "Name (slug)", so admins see what the order names."""
    return f"{model.name} ({model.slug})"


def option(label: str, value: str) -> dict[str, Any]:
    """A Block Kit option object, its text clipped to Slack's 75 characters as the templates do."""
    return {
        "text": {"type": "plain_text", "text": clip(label, ids.OPTION_TEXT_MAX), "emoji": True},
        "value": value,
    }


def query_of(payload: Any) -> str | None:
    """The typed text of a block_suggestion payload, clipped to a sane length; None if the payload is
    not one (anything can arrive at a public URL: answer junk with no options rather than an error)."""
    if not isinstance(payload, dict):
        return None
    value = payload.get("value")
    if not isinstance(value, str):  # Slack always sends the typed text, "" before any typing
        return None
    return value[:SEARCH_QUERY_MAX]


def model_options(catalog: Catalog, action_id: str, query: str) -> list[dict[str, Any]]:
    """The options to offer for `query` in the picker `action_id` (at most Slack's 100)."""
    if action_id == ids.REQUEST_MODEL_ACTION:
        label = request_label
    elif action_id == ids.DIRECTIVE_MODELS_ACTION:
        label = directive_label
    else:
        return []
    return [
        option(label(model), model.slug)
        for model in catalog.search(query, ids.SELECT_OPTIONS_MAX)
        # Slugs are validated far shorter (workflows.py); one Slack would refuse must not void the rest.
        if len(model.slug) <= ids.OPTION_VALUE_MAX
    ]


class OptionListeners:
    def __init__(self, surfaces: Surfaces):
        self.ctx = surfaces.ctx

    def model_picker(self, ack: Ack, body: dict[str, Any]) -> None:
        """Acks a block_suggestion with `{"options": [...]}`: the models matching the typed text."""
        options: list[dict[str, Any]] = []
        try:
            query = query_of(body)
            if query is not None:
                options = model_options(self.ctx.catalog, str(body.get("action_id")), query)
        except Exception:  # an empty menu beats an error the person cannot act on
            log.exception("could not build model options")
            options = []
        ack(options=options)


def register(app: App, surfaces: Surfaces) -> OptionListeners:
    """Register the model pickers' options on `app`; returns the listeners for tests."""
    listeners = OptionListeners(surfaces)
    for action_id in (ids.REQUEST_MODEL_ACTION, ids.DIRECTIVE_MODELS_ACTION):
        # A dict constraint matches block_suggestion only (a string would also match legacy dialogs).
        app.options({"action_id": action_id})(listeners.model_picker)
    return listeners
