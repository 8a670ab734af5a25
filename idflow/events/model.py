"""One event handler: what a valid one looks like, its normal form, and how two differ (all pure)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from idflow.conductor.paths import addressable

# The server's EventHandler fields; any other top-level key is dropped on the way in.
OWNED_FIELDS = ("name", "event", "condition", "evaluatorType", "active", "actions")
# EventHandler.Action.Type: any other value is answered 500 (a JSON parse error) for the whole write.
ACTION_TYPES = ("start_workflow", "complete_task", "fail_task", "terminate_workflow", "update_workflow_variables",
                "start_agent")
ACTION_KEYS = {"action", "expandInlineJSON", *ACTION_TYPES}
# What the server adds to an action's parameters when they are missing.
PAYLOAD_DEFAULTS: dict[str, dict[str, Any]] = {"start_workflow": {"input": {}}, "complete_task": {"output": {}},
                                               "fail_task": {"output": {}}}
CONDUCTOR_EVENT = re.compile(r"^conductor:(?P<workflow>[^:]+):")
EXPRESSION = "${"


def definition_problems(item: Any) -> tuple[list[str], list[str]]:
    """(errors, warnings) of one handler as written in a local file. Errors keep it from being written."""
    if not isinstance(item, dict):
        return [f"expected an event handler (an object with name, event, actions), got {type(item).__name__}"], []
    errors: list[str] = []
    warnings: list[str] = []
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        return ["event handler has no name (a non-empty string)"], []
    unreachable = addressable(name)
    if unreachable:
        errors.append(f"handler {name!r}: {unreachable}")
    if not isinstance(item.get("event"), str) or not item["event"].strip():
        errors.append(f"handler {name!r} has no event (a non-empty string, e.g. conductor:<workflow>:<task>)")
    for key, kind, label in (("condition", str, "a string"), ("evaluatorType", str, "a string"),
                             ("active", bool, "true or false")):
        if item.get(key) is not None and not isinstance(item[key], kind):
            errors.append(f"handler {name!r}: {key} must be {label}")
    if "active" not in item:
        warnings.append(f"handler {name!r} has no 'active': the server stores it inactive (it never fires)")
    actions = item.get("actions")
    if not isinstance(actions, list) or not actions:
        errors.append(f"handler {name!r} has no actions (a non-empty list)")
        actions = []
    for index, action in enumerate(actions):
        where = f"handler {name!r} actions[{index}]"
        if not isinstance(action, dict):
            errors.append(f"{where} is not an object")
            continue
        kind = action.get("action")
        if kind not in ACTION_TYPES:
            errors.append(f"{where}: action {json.dumps(kind)} is not one of {', '.join(ACTION_TYPES)}")
        elif not isinstance(action.get(kind), (dict, type(None))):
            errors.append(f"{where}: {kind} must be an object")
        for key in sorted(set(action) - ACTION_KEYS):
            warnings.append(f"{where}: the server does not keep {key!r}")
    for key in sorted(set(item) - set(OWNED_FIELDS)):
        warnings.append(f"handler {name!r}: the server does not keep {key!r} (ignored)")
    return errors, warnings


def wire(item: dict[str, Any]) -> dict[str, Any]:
    """The body idflow writes: the local handler's server fields, nothing else."""
    return {k: item[k] for k in OWNED_FIELDS if k in item}


def normalise(handler: dict[str, Any]) -> dict[str, Any]:
    """The handler as the server would hold it, so local and remote compare equal when they are.

    The server drops null values at the handler, action and parameter level (not inside
    input/output maps), stores a missing `active` as false, adds `expandInlineJSON: false`
    to every action and an empty input/output map to some action parameters.
    """
    out = {k: handler[k] for k in OWNED_FIELDS if handler.get(k) is not None}
    out["active"] = bool(out.get("active", False))
    out["actions"] = [_action(a) for a in handler.get("actions") or []]
    return out


def _action(action: Any) -> Any:
    if not isinstance(action, dict):
        return action
    out = {k: v for k, v in action.items() if v is not None and k in ACTION_KEYS}
    out.setdefault("expandInlineJSON", False)
    for kind in ACTION_TYPES:
        payload = out.get(kind)
        if isinstance(payload, dict):
            out[kind] = {**PAYLOAD_DEFAULTS.get(kind, {}), **{k: v for k, v in payload.items() if v is not None}}
    return out


@dataclass(frozen=True)
class Change:
    """One place where a local event handler differs from the server's copy: its path, server and local values."""
    path: str            # e.g. "active", "actions[0].start_workflow.input.x"
    old: Any             # the server's value (None: unset)
    new: Any             # the local value (None: unset)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new}


def differences(remote: dict[str, Any], local: dict[str, Any]) -> list[Change]:
    """Every leaf that differs between the normal forms, by path (empty: the same handler)."""
    changes: list[Change] = []
    _diff(normalise(remote), normalise(local), "", changes)
    return changes


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            _diff(old.get(key), new.get(key), f"{path}.{key}" if path else key, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            _diff(a, b, f"{path}[{index}]", out)
    elif old != new or type(old) is not type(new):
        out.append(Change(path, old, new))


def named_workflows(handler: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(workflow names the handler names, what it names only at run time).

    A `conductor:<workflow>:<name>` event is sent by that workflow's EVENT task; a
    start_workflow action starts the workflow it names. Other actions address a
    workflow by id, which is a run-time value.
    """
    names: list[str] = []
    unknown: list[str] = []
    match = CONDUCTOR_EVENT.match(str(handler.get("event") or ""))
    if match:
        (unknown if EXPRESSION in match["workflow"] else names).append(match["workflow"])
    for action in handler.get("actions") or []:
        if isinstance(action, dict) and action.get("action") == "start_workflow":
            target = (action.get("start_workflow") or {}).get("name")
            if not isinstance(target, str) or not target or EXPRESSION in target:
                unknown.append(f"start_workflow {json.dumps(target)}")
            else:
                names.append(target)
    return list(dict.fromkeys(names)), unknown
