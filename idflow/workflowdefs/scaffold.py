"""`idflow workflows new NAME`: a valid workflow file to start from, written without overwriting."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import InvalidWorkflowName, RefusedError

# Letters, digits, '_' and '-': the name is a directory, a file and a URL path segment.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,199}")


def check_workflow_name(name: str) -> None:
    if NAME.fullmatch(name):
        return
    shown = repr(name if len(name) <= 80 else name[:80] + "...")
    raise InvalidWorkflowName(f"workflow name {shown} must start with a letter and hold only letters, digits, "
                              "'_' and '-' (at most 200): it names the directory, the file and the definition; "
                              "nothing was written", hint="e.g. `idflow workflows new order_flow`")


def workflow_definition(name: str, task: str | None) -> dict[str, Any]:
    """One step: the local task `task`, or (with no task yet) an INLINE step that needs no worker."""
    if task:
        step = {"name": task, "taskReferenceName": task, "type": "SIMPLE", "inputParameters": {}}
        output = {"result": f"${{{task}.output}}"}
    else:
        step = {"name": "hello", "taskReferenceName": "hello", "type": "INLINE",
                "inputParameters": {"evaluatorType": "javascript", "who": "${workflow.input.who}",
                                    "expression": "(function () { return 'hello ' + $.who; })();"}}
        output = {"greeting": "${hello.output.result}"}
    return {"name": name, "description": f"{name}: what this workflow does, in one line.", "version": 1,
            "schemaVersion": 2, "timeoutSeconds": 3600, "timeoutPolicy": "TIME_OUT_WF",
            "tasks": [step], "outputParameters": output}


def newest_task(tasks: Iterable[Any]) -> str | None:
    """The discovered task whose file changed last (the one `tasks new` just wrote); ties by name.
    A task's `path` is relative to the working directory, or absolute."""
    def changed(task: Any) -> float:
        try:
            return Path(task.path).stat().st_mtime
        except OSError:
            return 0.0
    ranked = sorted(tasks, key=lambda t: (-changed(t), t.name))
    return ranked[0].name if ranked else None


def create_workflow(workflows_dir: Path, name: str, *, task: str | None = None,
                    existing_names: Iterable[str] = ()) -> tuple[Path, dict[str, Any]]:
    """Write workflows_dir/NAME/NAME.json; refuses (nothing written) when it or the workflow name exists."""
    check_workflow_name(name)
    target = Path(workflows_dir) / name
    path = target / f"{name}.json"
    if target.exists() or target.is_symlink():
        raise RefusedError(f"{target} already exists; nothing was written",
                           hint="pick another name, or edit the existing workflow")
    if name in set(existing_names):
        raise RefusedError(f"a workflow named {name!r} already exists in {workflows_dir}; nothing was written",
                           hint="workflow names must be unique: pick another name")
    definition = workflow_definition(name, task)
    target.mkdir(parents=True)
    path.write_text(json.dumps(definition, indent=2) + "\n", encoding="utf-8")
    return path, definition
