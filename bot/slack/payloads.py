"""The shapes of what Slack sends, checked before anything reads them.

Two layers, both with pydantic (strict: a number is never taken for a string):
- `Envelope` models, checked by the HTTP edge (bot/slack/edge.py) on every verified request before Bolt
  sees it. They hold exactly what Bolt itself reads to route a request and build its context (the
  `extract_*` functions in slack_bolt/request/internals.py and the matchers in
  slack_bolt/listener_matcher/builtins.py), so that no payload can make Bolt raise.
- Listener models (`Command`, `Click`, `Submission`, `Shortcut`, `HomeOpened`, `UserChange`,
  `Suggestion`), parsed at the top of each listener: the fields that listener uses, with the types and
  sizes it needs. A payload that does not fit is refused in plain words, never half-read.

Field sizes come from Slack's limits (SLACK.md: button value 2,000, private_metadata 3,000, ids 255).
Every model allows fields it does not name: Slack adds fields over time.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

log = logging.getLogger(__name__)

# Slack user ids start with U (or W in Enterprise Grid); the rest is upper-case letters and digits.
USER_ID_PATTERN = r"^[UW][A-Z0-9]{2,31}$"
UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]
SlackText = Annotated[str, StringConstraints(max_length=40_000)]
Identifier = Annotated[str, StringConstraints(max_length=255)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2_000)]
Trigger = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


# -- envelopes: what Bolt reads ------------------------------------------------------------------------


class _Ref(_Open):
    """`team`, `user`, `enterprise`, `channel` as objects: Bolt reads their `id` (and a user's team)."""

    id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None


_RefField = _Ref | str | None


class _Authorization(_Open):
    enterprise_id: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    is_bot: bool | None = None
    is_enterprise_install: bool | None = None


class _Scope(_Open):
    """The fields Bolt's context extraction looks for, at any level it recurses into."""

    enterprise: _RefField = None
    team: _RefField = None
    user: _RefField = None
    channel: _RefField = None
    enterprise_id: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    channel_id: str | None = None
    user_team: str | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    authorizations: list[_Authorization] | None = None
    is_enterprise_install: bool | None = None
    is_ext_shared_channel: bool | None = None
    event: _Scope | None = None
    message: _Scope | None = None
    previous_message: _Scope | None = None
    item: _Scope | None = None
    assistant_thread: _Scope | None = None
    # Workflow functions are not something AccessBot offers: a payload that claims to be one is refused
    # rather than letting Bolt act on a function token it carries.
    function_execution_id: None = None
    function_data: None = None
    bot_access_token: None = None


class _Action(_Open):
    action_id: Identifier
    block_id: Identifier | None = None
    type: str | None = None


class _ResponseUrl(_Open):
    response_url: str | None = None


class _EnvelopeView(_Open):
    callback_id: Identifier = ""
    # Bolt reads view["type"] of every submission (a "workflow_step" one makes it look for fields of
    # Slack's retired Steps from Apps).
    type: Literal["modal", "home"]
    team_id: str | None = None
    app_installed_team_id: str | None = None


INTERACTION_TYPES = ("block_actions", "view_submission", "view_closed", "shortcut", "block_suggestion")


class InteractionEnvelope(_Scope):
    """`payload=<json>` of buttons, modals, shortcuts and select menus that load options."""

    type: Literal["block_actions", "view_submission", "view_closed", "shortcut", "block_suggestion"]
    actions: list[_Action] | None = None
    view: _EnvelopeView | None = None
    callback_id: Identifier | None = None
    action_id: Identifier | None = None
    block_id: Identifier | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    # Bolt takes len() of this list whenever the key is present (so null is refused), and logs through a
    # context that has no logger yet when it holds more than one (AccessBot's modals ask for none).
    response_urls: Annotated[list[_ResponseUrl], Field(max_length=1)] = []
    container: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _routable(self) -> InteractionEnvelope:
        # What Bolt's matchers index into without checking.
        if self.type == "block_actions" and not self.actions:
            raise ValueError("block_actions without actions")
        if self.type in ("view_submission", "view_closed") and self.view is None:
            raise ValueError(f"{self.type} without a view")
        if self.type == "shortcut" and self.callback_id is None:
            raise ValueError("shortcut without a callback_id")
        if self.type == "block_suggestion" and self.action_id is None:
            raise ValueError("block_suggestion without an action_id")
        return self


class _Event(_Scope):
    type: Identifier
    subtype: str | None = None
    tab: str | None = None
    channel_type: str | None = None


class EventEnvelope(_Scope):
    """An Events API delivery (JSON body)."""

    type: Literal["event_callback", "url_verification", "app_rate_limited"]
    event: _Event | None = None  # type: ignore[assignment]
    event_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,64}$")] | None = None
    challenge: Annotated[str, StringConstraints(max_length=255)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> EventEnvelope:
        if self.type == "event_callback" and (self.event is None or self.event_id is None):
            raise ValueError("event_callback without an event and its event_id")
        if self.type == "url_verification" and self.challenge is None:
            raise ValueError("url_verification without a challenge")
        return self


class CommandEnvelope(_Open):
    """A slash command (form fields, every value a string)."""

    command: Annotated[str, StringConstraints(pattern=r"^/[a-z0-9_-]{1,31}$")]


# -- what each listener reads -------------------------------------------------------------------------


class Actor(_Open):
    id: UserId


class Command(_Open):
    user_id: UserId
    trigger_id: Trigger
    response_url: Url
    text: SlackText = ""


class _ClickAction(_Open):
    action_id: Identifier
    value: Annotated[str, StringConstraints(max_length=2_000)] | None = None


class _Container(_Open):
    type: str | None = None


class Click(_Open):
    user: Actor
    actions: Annotated[list[_ClickAction], Field(min_length=1)]
    trigger_id: Trigger | None = None
    response_url: Url | None = None
    container: _Container | None = None

    @property
    def value(self) -> str:
        """The clicked button's value ('' when it has none)."""
        return self.actions[0].value or ""

    @property
    def in_view(self) -> bool:
        """Clicked in a modal or the App Home (no response_url), rather than in a message."""
        return self.container is not None and self.container.type == "view"


class _State(_Open):
    values: dict[str, dict[str, dict[str, Any]]] = {}


class _SubmittedView(_Open):
    private_metadata: Annotated[str, StringConstraints(max_length=3_000)] = ""
    state: _State = _State()


class Submission(_Open):
    user: Actor
    view: _SubmittedView

    def field(self, block: str, action: str) -> dict[str, Any]:
        """The state of one input element ({} when absent)."""
        return self.view.state.values.get(block, {}).get(action) or {}

    def text(self, block: str, action: str) -> str:
        value = self.field(block, action).get("value")
        return value if isinstance(value, str) else ""

    def selected(self, block: str, action: str) -> str | None:
        """The value of a single select's chosen option, if it is a non-empty string."""
        option = self.field(block, action).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) and value else None

    def selected_many(self, block: str, action: str) -> list[str]:
        """The values of a multi-select's chosen options (entries of another shape are skipped)."""
        options = self.field(block, action).get("selected_options")
        if not isinstance(options, list):
            return []
        values = (o.get("value") for o in options if isinstance(o, dict))
        return [v for v in values if isinstance(v, str) and v]

    def selected_user(self, block: str, action: str) -> str | None:
        """A users_select's chosen user ID (`selected_user`), if it is one; None when empty or not an ID."""
        value = self.field(block, action).get("selected_user")
        return value if isinstance(value, str) and re.fullmatch(USER_ID_PATTERN, value) else None

    def selected_date(self, block: str, action: str) -> str | None:
        """A datepicker's chosen day (`selected_date`, YYYY-MM-DD as Slack sends it) as sent; None when
        empty. The caller checks that it is a date."""
        value = self.field(block, action).get("selected_date")
        return value if isinstance(value, str) and value else None


class Shortcut(_Open):
    user: Actor
    trigger_id: Trigger


class Suggestion(_Open):
    user: Actor
    value: Annotated[str, StringConstraints(max_length=2_000)] = ""


class HomeOpened(_Open):
    user: UserId
    tab: str | None = None


class _ChangedUser(_Open):
    id: UserId
    # Required: an event without it says nothing about the account (and must not reactivate it).
    deleted: bool


class UserChange(_Open):
    user: _ChangedUser


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, what: str) -> M | None:
    """`data` as `model`, or None after one log line naming the fields that did not fit (never values:
    they may hold personal data)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in e["loc"]) or "(top)" for e in error.errors()})
        log.warning("ignored a %s of unexpected shape (fields: %s)", what, ", ".join(fields[:8])[:300])
        return None
