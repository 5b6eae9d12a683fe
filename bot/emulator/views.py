"""Modals and Home tabs: the ``views.*`` Web API methods and what Slack does with a submission's ack.

A stored view is a dict: Slack's view object plus ``user_id`` (whose it is) and ``closed``. A person
sees a stack of up to three modals (``open_stack``); a Home tab keeps one id and gets new content on
each publish. Each function takes the workspace; Web API methods take the decoded request parameters
and return the response body, raising ``SlackError`` with Slack's error code.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from .limits import check_view
from .workspace import SlackError, Workspace, invalid_arguments, random_id

VIEW_STACK_MAX = 3


# -- view records ------------------------------------------------------------------------------


def build_view(
    ws: Workspace, spec: dict[str, Any], user_id: str, view_id: str | None = None
) -> dict[str, Any]:
    """A stored view record from the caller's view JSON (Slack fills in the defaults)."""
    return {
        "id": view_id or random_id("V"),
        "team_id": ws.team_id,
        "type": spec.get("type"),
        "title": copy.deepcopy(spec.get("title")),
        "submit": copy.deepcopy(spec.get("submit")),
        "close": copy.deepcopy(spec.get("close")),
        "blocks": ws.with_generated_ids(spec.get("blocks")),
        "private_metadata": spec.get("private_metadata") or "",
        "callback_id": spec.get("callback_id") or "",
        "external_id": spec.get("external_id") or "",
        "state": {"values": {}},
        "hash": f"{ws.clock():.6f}.{secrets.token_hex(4)}",
        "clear_on_close": bool(spec.get("clear_on_close", False)),
        "notify_on_close": bool(spec.get("notify_on_close", False)),
        "root_view_id": None,
        "previous_view_id": None,
        "app_id": ws.app_id,
        "bot_id": ws.bot_id,
        "app_installed_team_id": ws.team_id,
        "user_id": user_id,
        "closed": False,
    }


def api_view(view: dict[str, Any]) -> dict[str, Any]:
    """The view as the Web API and payloads show it (bookkeeping stripped)."""
    return {k: copy.deepcopy(v) for k, v in view.items() if k not in ("user_id", "closed")}


def replace_view_content(ws: Workspace, view: dict[str, Any], spec: dict[str, Any]) -> None:
    """views.update / response_action=update: new content, same id, new hash, fresh state."""
    fresh = build_view(ws, spec, view["user_id"], view_id=view["id"])
    for key in ("root_view_id", "previous_view_id"):
        fresh[key] = view[key]
    # An update that does not mention external_id keeps the view findable by the old one.
    fresh["external_id"] = fresh["external_id"] or view["external_id"]
    view.update(fresh)


def open_stack(ws: Workspace, user_id: str) -> list[dict[str, Any]]:
    """The user's open modals, bottom first (Slack allows a stack of three)."""
    return [
        ws.views[view_id]
        for view_id in ws.modal_order
        if ws.views[view_id]["user_id"] == user_id and not ws.views[view_id]["closed"]
    ]


def close_view(ws: Workspace, view_id: str, whole_stack: bool = False) -> None:
    """Mark a modal closed; with ``whole_stack``, every modal of its stack too. Unknown ids are ignored."""
    view = ws.views.get(view_id)
    if view is None:
        return
    view["closed"] = True
    if whole_stack:
        root = view["root_view_id"]
        for other in ws.views.values():
            if other["root_view_id"] == root:
                other["closed"] = True


def _show_modal(ws: Workspace, view: dict[str, Any]) -> None:
    ws.views[view["id"]] = view
    ws.modal_order.append(view["id"])


def apply_submission_ack(ws: Workspace, view_id: str, ack: dict[str, Any] | None) -> list[str]:
    """What Slack does with a view_submission ack: update/push/clear/errors, else close.

    Returns the Block Kit violations of an update/push view (also recorded in ``ws.violations``); the
    modal is then left as it was.
    """
    ack = ack or {}
    action = ack.get("response_action")
    view = ws.views.get(view_id)
    if view is None or action == "errors":
        return []
    if action in ("update", "push"):
        spec = ack.get("view")
        problems = check_view(spec) if isinstance(spec, dict) else ["view: missing"]
        if problems:
            ws.violations.extend(f"response_action={action}: {p}" for p in problems)
            return problems
        assert isinstance(spec, dict)
        if action == "update":
            replace_view_content(ws, view, spec)
        else:
            pushed = build_view(ws, spec, view["user_id"])
            pushed["root_view_id"], pushed["previous_view_id"] = view["root_view_id"], view["id"]
            _show_modal(ws, pushed)
        return []
    close_view(ws, view_id, whole_stack=action == "clear")
    return []


# -- Web API methods -------------------------------------------------------------------------


def _view_spec(ws: Workspace, params: dict[str, Any], method: str, expected_type: str) -> dict[str, Any]:
    view = params.get("view")
    if not isinstance(view, dict):
        raise invalid_arguments(["view must be a JSON object"])
    problems = check_view(view)
    if view.get("type") != expected_type:
        problems.append(f"view.type: {method} needs a {expected_type} view, got {view.get('type')!r}")
    if problems:
        ws.violations.extend(f"{method}: {p}" for p in problems)
        raise invalid_arguments(problems)
    return view


def views_open(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """views.open: a modal for the trigger's person, using up the trigger id."""
    trigger = ws.check_trigger(params.get("trigger_id"))
    spec = _view_spec(ws, params, "views.open", "modal")
    trigger.used = True
    view = build_view(ws, spec, trigger.user_id)
    view["root_view_id"] = view["id"]
    _show_modal(ws, view)
    return {"view": api_view(view)}


def views_push(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """views.push onto the person's open stack; ``push_limit_reached`` past three modals."""
    trigger = ws.check_trigger(params.get("trigger_id"))
    spec = _view_spec(ws, params, "views.push", "modal")
    stack = open_stack(ws, trigger.user_id)
    if len(stack) >= VIEW_STACK_MAX:
        raise SlackError("push_limit_reached")
    trigger.used = True
    view = build_view(ws, spec, trigger.user_id)
    view["root_view_id"] = stack[0]["root_view_id"] if stack else view["id"]
    view["previous_view_id"] = stack[-1]["id"] if stack else None
    _show_modal(ws, view)
    return {"view": api_view(view)}


def views_update(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """views.update by view_id or external_id; ``hash_conflict`` when ``hash`` is stale."""
    view_id, external_id = params.get("view_id"), params.get("external_id")
    if not view_id and not external_id:
        raise invalid_arguments(["pass view_id or external_id"])
    view = ws.views.get(view_id) if view_id else None
    if view is None and external_id:
        view = next((v for v in ws.views.values() if v["external_id"] == external_id), None)
    if view is None or view["closed"]:
        raise SlackError("not_found")
    spec = _view_spec(ws, params, "views.update", view["type"])
    if params.get("hash") and params["hash"] != view["hash"]:
        raise SlackError("hash_conflict")
    replace_view_content(ws, view, spec)
    return {"view": api_view(view)}


def views_publish(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    """views.publish: the person's Home tab, created on first publish."""
    user = ws.users.get(params.get("user_id") or "")
    if user is None:
        raise SlackError("user_not_found")
    spec = _view_spec(ws, params, "views.publish", "home")
    current = ws.views.get(ws.home_by_user.get(user.id, ""))
    if params.get("hash") and (current is None or params["hash"] != current["hash"]):
        raise SlackError("hash_conflict")
    if current is None:
        # A person has one Home tab view; later publishes replace its content under the same id.
        current = build_view(ws, spec, user.id)
        current["root_view_id"] = current["id"]
        ws.views[current["id"]] = current
        ws.home_by_user[user.id] = current["id"]
    else:
        replace_view_content(ws, current, spec)
    return {"view": api_view(current)}
