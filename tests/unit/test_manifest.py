"""manifest.yaml asks for exactly the bot scopes the code uses: every Web API method the bot calls and
every event it handles is covered, and every scope requested is needed by one of them (an admin
approving the install reads the list, and `users:read.email` would expose every member's e-mail).

The scope of each method and event is from Slack's reference (https://api.slack.com/methods/<method>,
https://api.slack.com/events/<event>, as mirrored by slack-ruby/slack-api-ref `docs.slack.dev/`).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yaml"
CODE = ROOT / "bot"
NOT_THE_BOT = CODE / "emulator"  # the stand-in for Slack, not a client of it

# Bot-token scopes per Web API method. A method not listed here makes the test fail: look it up and add
# it, with only the scopes for the conversation kinds the bot really uses it with.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    # chat:write; chat:write.public to post in public channels the bot is not a member of (directive
    # announcements go to channels named in the workflows, which nobody has to invite it to).
    "chat.postMessage": frozenset({"chat:write", "chat:write.public"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    # Only 1:1 DMs: im:write (channels:manage / groups:write / mpim:write are for other kinds).
    "conversations.open": frozenset({"im:write"}),
    # The sender reads back public channels, private channels and DMs (never group DMs).
    "conversations.history": frozenset({"channels:history", "groups:history", "im:history"}),
    "conversations.join": frozenset({"channels:join"}),
    "users.info": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),
    "conversations.info": frozenset({"channels:read", "groups:read", "im:read"}),
    "conversations.members": frozenset({"channels:read", "groups:read", "im:read"}),
    # "This method does not require any scopes."
    "views.open": frozenset(),
    "views.push": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
    "auth.test": frozenset(),
    # A response_url is a one-off webhook: no token, no scope.
    "response_url": frozenset(),
}

EVENT_SCOPES: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),  # an app event: no scope
    "user_change": frozenset({"users:read"}),
}

# Slash commands and shortcuts (Bolt's app.command / app.shortcut) need `commands`.
COMMAND_SCOPE = "commands"


def python_files() -> Iterator[Path]:
    for path in sorted(CODE.rglob("*.py")):
        if NOT_THE_BOT not in path.parents:
            yield path


def slack_method(attribute: str) -> str:
    """slack_sdk's method name to Slack's: `chat_postMessage` -> `chat.postMessage`."""
    return attribute.replace("_", ".", 1)


def is_client(node: ast.expr) -> bool:
    """`client` or `<anything>.client` (e.g. `self.client`)."""
    return (isinstance(node, ast.Name) and node.id == "client") or (
        isinstance(node, ast.Attribute) and node.attr == "client"
    )


def is_app(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "app"


@functools.cache
def code_uses() -> tuple[set[str], set[str], set[str], list[str]]:
    """(Web API methods called, events registered, Bolt surfaces registered, unreadable registrations)."""
    methods: set[str] = set()
    events: set[str] = set()
    surfaces: set[str] = set()
    unreadable: list[str] = []
    for path in python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "WebhookClient":
                methods.add("response_url")
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            func = node.func
            if is_client(func.value):
                if func.attr == "api_call":
                    argument = node.args[0] if node.args else None
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        methods.add(argument.value)
                    else:
                        unreadable.append(f"{path.relative_to(ROOT)}:{node.lineno} client.api_call")
                elif "_" in func.attr and not func.attr.startswith("_"):
                    methods.add(slack_method(func.attr))
            elif is_app(func.value) and func.attr in ("event", "command", "shortcut"):
                surfaces.add(func.attr)
                if func.attr == "event":
                    argument = node.args[0] if node.args else None
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        events.add(argument.value)
                    elif isinstance(argument, ast.Name) and argument.id == "ANY_EVENT":
                        pass  # bot/slack/events.py's catch-all: it takes what arrives, subscribes to nothing
                    else:
                        unreadable.append(f"{path.relative_to(ROOT)}:{node.lineno} app.event")
    return methods, events, surfaces, unreadable


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def requested_scopes() -> set[str]:
    return set(manifest()["oauth_config"]["scopes"]["bot"])


def subscribed_events() -> set[str]:
    return set(manifest()["settings"]["event_subscriptions"]["bot_events"])


def needed_scopes() -> dict[str, set[str]]:
    """Each scope the bot needs -> what needs it."""
    methods, events, surfaces, _ = code_uses()
    needs: dict[str, set[str]] = {}
    for method in methods:
        for scope in METHOD_SCOPES[method]:
            needs.setdefault(scope, set()).add(method)
    for event in events | subscribed_events():
        for scope in EVENT_SCOPES[event]:
            needs.setdefault(scope, set()).add(f"event {event}")
    data = manifest()
    if (
        {"command", "shortcut"} & surfaces
        or data["features"].get("slash_commands")
        or data["features"].get("shortcuts")
    ):
        needs.setdefault(COMMAND_SCOPE, set()).add("slash commands and shortcuts")
    return needs


def test_the_scan_sees_what_the_bot_does() -> None:
    methods, events, surfaces, unreadable = code_uses()
    # A scanner that finds nothing would pass everything below: make sure it sees known calls.
    assert {
        "chat.postMessage",
        "chat.update",
        "conversations.history",
        "views.publish",
        "response_url",
    } <= methods
    assert "app_home_opened" in events
    assert {"command", "shortcut", "event"} <= surfaces
    assert unreadable == [], "registrations the test cannot read: use a literal method or event name"


def test_every_method_and_event_the_code_uses_has_a_known_scope() -> None:
    methods, events, _, _ = code_uses()
    assert methods - METHOD_SCOPES.keys() == set(), "look the method's scope up and add it to METHOD_SCOPES"
    assert (events | subscribed_events()) - EVENT_SCOPES.keys() == set(), "add the event to EVENT_SCOPES"


def test_every_scope_the_code_needs_is_requested() -> None:
    missing = {
        scope: sorted(users) for scope, users in needed_scopes().items() if scope not in requested_scopes()
    }
    assert missing == {}


def test_every_requested_scope_is_needed_by_something_the_code_does() -> None:
    unneeded = requested_scopes() - needed_scopes().keys()
    assert unneeded == set(), f"remove from manifest.yaml, nothing uses them: {sorted(unneeded)}"
    assert not {"users:read.email", "channels:read", "groups:read"} & requested_scopes()


def test_the_events_the_bot_handles_are_subscribed() -> None:
    _, events, _, _ = code_uses()
    assert events <= subscribed_events()
    # Deactivations arrive as user_change (user.deleted) and need users:read.
    assert {"app_home_opened", "user_change"} <= subscribed_events()
    assert "users:read" in requested_scopes()


def test_the_header_comment_matches_the_socket_mode_setting() -> None:
    enabled = manifest()["settings"]["socket_mode_enabled"]
    header = []
    for line in MANIFEST.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert f"socket_mode_enabled: {str(enabled).lower()}" in "\n".join(header)


def registered_commands() -> set[str]:
    """The slash commands the code registers: `app.command("/x")` or `app.command(ids.X_COMMAND)`."""
    from bot.slack import ids

    found: set[str] = set()
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if not (is_app(node.func.value) and node.func.attr == "command"):
                continue
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.add(argument.value)
            elif isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name):
                assert argument.value.id == "ids", f"{path.relative_to(ROOT)}:{node.lineno}: use ids.*"
                found.add(getattr(ids, argument.attr))
            else:
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno}: unreadable app.command")
    return found


def test_every_slash_command_the_code_handles_is_in_the_manifest_and_back() -> None:
    declared = manifest()["features"]["slash_commands"]
    assert registered_commands() == {c["command"] for c in declared}
    assert {"/access", "/directive", "/licence"} <= registered_commands()
    # Escaped, a typed @mention arrives as <@U…|name>: `/access grants` and `/licence list` read those.
    assert all(c.get("should_escape") is True for c in declared)
