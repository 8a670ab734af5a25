"""Workflow definitions as code: local files vs the server, and a plan (the upload is in `write`).

Workflows, unlike TaskDefs, have versions: a local file's (name, version) is
compared with the server's copy of that same name and version. PUT replaces a
whole definition, so the comparison is of whole definitions after dropping what
the server fills in by itself (timestamps, defaults such as `type: SIMPLE`,
`optional: false`, empty lists and maps); a field the file stops setting is a
change, because the upload would reset it.

Before anything is written, every SIMPLE task a workflow names must have a
TaskDef locally (discovery) or on the server: Conductor OSS accepts a workflow
naming a missing TaskDef and only fails when it runs.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from idflow.taskdefs.usage import unknown_task_references, walk_tasks
from idflow.workflowdefs.files import FileIssue, LocalWorkflow, load_workflow_files

CREATE, UPDATE, UNCHANGED, REMOTE_ONLY = "create", "update", "unchanged", "remote_only"
DEFAULT_VERSION = 1
MAX_CHANGES = 50

# Filled in by the server, never by a file.
MANAGED = frozenset({"createTime", "updateTime", "createdBy", "updatedBy", "ownerApp"})
WORKFLOW_DEFAULTS: dict[str, Any] = {"version": DEFAULT_VERSION, "schemaVersion": 2, "restartable": True,
                                     "workflowStatusListenerEnabled": False, "timeoutPolicy": "ALERT_ONLY",
                                     "timeoutSeconds": 0, "enforceSchema": True}
TASK_DEFAULTS: dict[str, Any] = {"type": "SIMPLE", "startDelay": 0, "optional": False, "asyncComplete": False,
                                 "permissive": False}
TASK_LISTS = ("defaultCase", "loopOver")
EMPTY: tuple[Any, ...] = (None, "", [], {})
_UNSET = object()


@dataclass(frozen=True)
class WorkflowChange:
    """One path where a local workflow version differs from the server's copy: the server and local values."""
    path: str
    old: Any   # None: not set
    new: Any


@dataclass(frozen=True)
class TaskRef:
    """A task a workflow names, and where in the workflow it is named."""
    task: str
    where: str


@dataclass(frozen=True)
class WorkflowItem:
    """One workflow version in an upload plan: its action, both definitions, the changes and the tasks it lacks."""
    name: str
    version: int
    action: str
    path: str | None = None                      # the local file
    desired: dict[str, Any] | None = None        # the file's definition, as written
    actual: dict[str, Any] | None = None         # the server copy
    changes: tuple[WorkflowChange, ...] = ()
    unknown_tasks: tuple[TaskRef, ...] = ()      # no TaskDef locally or on the server
    not_uploaded: tuple[str, ...] = ()           # TaskDef only local: upload tasks before running

    @property
    def label(self) -> str:
        return label(self.name, self.version)

    @property
    def writes(self) -> bool:
        return self.action in (CREATE, UPDATE)

    def brief(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "path": self.path}


@dataclass(frozen=True)
class WorkflowPlan:
    """What a workflow upload would do: one item per (name, version), plus the problems in the files."""
    items: tuple[WorkflowItem, ...]
    issues: tuple[FileIssue, ...] = ()

    def of(self, *actions: str) -> list[WorkflowItem]:
        return [i for i in self.items if i.action in actions]

    @property
    def to_write(self) -> list[WorkflowItem]:
        return [i for i in self.items if i.writes]

    @property
    def refused(self) -> list[WorkflowItem]:
        return [i for i in self.items if i.unknown_tasks]

    def summary(self) -> dict[str, Any]:
        """The `workflows list --sync --json` document."""
        def refs(*actions: str) -> list[dict[str, Any]]:
            return [i.brief() for i in self.of(*actions)]

        return {"local": refs(CREATE, UPDATE, UNCHANGED), "remote": refs(UPDATE, UNCHANGED, REMOTE_ONLY),
                "in_sync": refs(UNCHANGED), "changed": refs(UPDATE), "local_only": refs(CREATE),
                "remote_only": refs(REMOTE_ONLY),
                "changes": {i.label: [asdict(c) for c in i.changes] for i in self.of(UPDATE)},
                "unknown_tasks": {i.label: [asdict(r) for r in i.unknown_tasks] for i in self.refused},
                "not_uploaded_tasks": {i.label: list(i.not_uploaded) for i in self.items if i.not_uploaded},
                "errors": [issue_json(i) for i in self.issues]}

    def to_json(self) -> dict[str, Any]:
        """The whole plan (`from_json` reads it back): every item with both definitions and its changes."""
        return {"items": [{**asdict(i), "changes": [asdict(c) for c in i.changes],
                           "unknown_tasks": [asdict(r) for r in i.unknown_tasks], "not_uploaded": list(i.not_uploaded)}
                          for i in self.items],
                "issues": [issue_json(i) for i in self.issues]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkflowPlan":
        items = tuple(WorkflowItem(i["name"], i["version"], i["action"], i.get("path"), i.get("desired"),
                                   i.get("actual"), tuple(WorkflowChange(**c) for c in i.get("changes", [])),
                                   tuple(TaskRef(**r) for r in i.get("unknown_tasks", [])),
                                   tuple(i.get("not_uploaded", ())))
                      for i in data.get("items", []))
        return cls(items, tuple(FileIssue(i["path"], i["line"], i["message"]) for i in data.get("issues", [])))


def issue_json(issue: FileIssue) -> dict[str, Any]:
    return {"path": issue.path, "line": issue.line, "message": issue.message}


# ---- local files ------------------------------------------------------------------
def label(name: str, version: int) -> str:
    """How a workflow version is named in listings and in the ledger: "NAME vN"."""
    return f"{name} v{version}"


def version_of(definition: dict[str, Any]) -> int:
    version = definition.get("version", DEFAULT_VERSION)
    return version if isinstance(version, int) and not isinstance(version, bool) else DEFAULT_VERSION


def load_local(workflows_dir: Path) -> tuple[list[LocalWorkflow], list[FileIssue]]:
    """The workflow files, each (name, version) once; a second definition of one is an issue."""
    found, issues = load_workflow_files(workflows_dir)
    first: dict[tuple[str, int], LocalWorkflow] = {}
    for local in found:
        key = (local.definition["name"], version_of(local.definition))
        version = local.definition.get("version")
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            issues.append(FileIssue(local.path, 0, f"workflow {key[0]!r}: version must be an integer, got {version!r}"))
        elif key in first:
            issues.append(FileIssue(local.path, 0, f"workflow {key[0]!r} v{key[1]} is also defined in "
                                    f"{first[key].path}: keep one, or give one another version"))
        else:
            first[key] = local
    return list(first.values()), issues


# ---- normalising and comparing --------------------------------------------------------
def normalise(definition: dict[str, Any]) -> dict[str, Any]:
    """A workflow definition without what the server fills in; `version` is compared apart."""
    result = _normalise_workflow(definition)
    result.pop("version", None)
    return result


def _normalise_workflow(definition: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for key, value in definition.items():
        if key in MANAGED or value in EMPTY or WORKFLOW_DEFAULTS.get(key, _UNSET) == value:
            continue
        result[key] = _tasks(value) if key == "tasks" else value
    return result


def _tasks(value: Any) -> Any:
    return [_task(t) for t in value] if isinstance(value, list) else value


def _task(task: Any) -> Any:
    if not isinstance(task, dict):
        return task
    result = {}
    for key, value in task.items():
        if key in MANAGED or value in EMPTY or TASK_DEFAULTS.get(key, _UNSET) == value:
            continue
        if key == "forkTasks" and isinstance(value, list):
            value = [_tasks(branch) for branch in value]
        elif key == "decisionCases" and isinstance(value, dict):
            value = {case: _tasks(branch) for case, branch in value.items()}
        elif key in TASK_LISTS:
            value = _tasks(value)
        elif key == "subWorkflowParam" and isinstance(value, dict):
            value = _sub_workflow(value)
        elif key == "taskDefinition" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in MANAGED and v not in EMPTY}
        result[key] = value
    return result


def _sub_workflow(param: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in param.items() if v not in EMPTY}
    inline = result.get("workflowDefinition")
    if isinstance(inline, dict):
        result["workflowDefinition"] = _normalise_workflow(inline)
        if result.get("version") == DEFAULT_VERSION:
            del result["version"]  # the server pins an inline definition to version 1
    return result


def differences(actual: dict[str, Any], desired: dict[str, Any]) -> list[WorkflowChange]:
    """Field changes an upload of `desired` would make to `actual` (both raw definitions)."""
    changes: list[WorkflowChange] = []
    _diff(normalise(actual), normalise(desired), "", changes)
    return changes


def _diff(old: Any, new: Any, path: str, out: list[WorkflowChange], subset: bool = False) -> None:
    if len(out) >= MAX_CHANGES or old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(new) if subset else list(dict.fromkeys([*old, *new]))
        for key in keys:
            # An inline TaskDef comes back with every TaskDef default: compare what the file sets.
            _diff(old.get(key), new.get(key), f"{path}.{key}" if path else str(key), out,
                  subset=key == "taskDefinition")
    elif isinstance(old, list) and isinstance(new, list) and old and new:
        for index in range(max(len(old), len(new))):
            _diff(old[index] if index < len(old) else None, new[index] if index < len(new) else None,
                  f"{path}[{index}]", out)
    elif not (subset and new is None):
        out.append(WorkflowChange(path, old, new))


# ---- the plan ---------------------------------------------------------------------------
def plan_workflows(local: Iterable[LocalWorkflow], remote: Iterable[dict[str, Any]], *,
                   local_tasks: Iterable[str], remote_tasks: Iterable[str], names: Iterable[str] | None = None,
                   issues: Iterable[FileIssue] = (), include_remote_only: bool = False) -> WorkflowPlan:
    """Local workflows (all, or those named) vs the server's copies; pure."""
    wanted = set(names or ())
    server = {(d.get("name"), version_of(d)): d for d in remote if isinstance(d, dict)}
    local_names, remote_names = set(local_tasks), set(remote_tasks)
    known = local_names | remote_names
    items: list[WorkflowItem] = []
    seen: set[tuple[str, int]] = set()
    for workflow in sorted(local, key=lambda w: (w.definition["name"], version_of(w.definition))):
        desired = workflow.definition
        key = (desired["name"], version_of(desired))
        if wanted and key[0] not in wanted:
            continue
        seen.add(key)
        unknown = tuple(TaskRef(n, w) for n, w in unknown_task_references(desired, known))
        pending = tuple(sorted({n for n, _ in unknown_task_references(desired, remote_names)} & local_names))
        actual = server.get(key)
        changes = tuple(differences(actual, desired)) if actual is not None else ()
        action = CREATE if actual is None else UPDATE if changes else UNCHANGED
        items.append(WorkflowItem(key[0], key[1], action, workflow.path, desired, actual, changes, unknown, pending))
    if include_remote_only:
        for key in sorted(set(server) - seen, key=lambda k: (str(k[0]), k[1])):
            if not wanted or key[0] in wanted:
                items.append(WorkflowItem(str(key[0]), key[1], REMOTE_ONLY, actual=server[key]))
    return WorkflowPlan(tuple(items), tuple(issues))


def referenced_tasks(definition: dict[str, Any]) -> list[str]:
    """SIMPLE task names a workflow runs, in order, each once."""
    names = [t.get("name") for t, _ in walk_tasks(definition) if t.get("type", "SIMPLE") in (None, "SIMPLE")]
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n))


# ---- runs -------------------------------------------------------------------------------------
TERMINAL = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
TASK_FAILED = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "CANCELED"})


def task_view(task: dict[str, Any]) -> dict[str, Any]:
    """The parts of one task execution a person (or a script) looks at."""
    return {"ref": task.get("referenceTaskName"), "task": task.get("taskDefName") or task.get("taskType"),
            "type": task.get("taskType"), "status": task.get("status"), "retryCount": task.get("retryCount", 0),
            "reasonForIncompletion": task.get("reasonForIncompletion") or None, "taskId": task.get("taskId")}


@dataclass
class RunOutcome:
    """A workflow run as the server last reported it, and whether the wait for it timed out."""
    workflow_id: str
    execution: dict[str, Any]
    timed_out: bool = False      # --timeout ran out before the workflow finished

    @property
    def status(self) -> str:
        return str(self.execution.get("status", "UNKNOWN"))

    @property
    def ok(self) -> bool:
        return self.status == "COMPLETED" and not self.timed_out

    def failed_tasks(self) -> list[dict[str, Any]]:
        return [task_view(t) for t in self.execution.get("tasks") or [] if t.get("status") in TASK_FAILED]

    def to_json(self) -> dict[str, Any]:
        ex = self.execution
        return {"workflowId": self.workflow_id, "name": ex.get("workflowName") or ex.get("workflowType"),
                "version": ex.get("workflowVersion"), "status": self.status, "timedOut": self.timed_out,
                "output": ex.get("output") or {}, "reasonForIncompletion": ex.get("reasonForIncompletion") or None,
                "failedTasks": self.failed_tasks(), "tasks": [task_view(t) for t in ex.get("tasks") or []]}


def wait_for_execution(client: Any, workflow_id: str, *, timeout: float,
                       on_task: Callable[[dict[str, Any]], None] | None = None,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> RunOutcome:
    """Poll an execution until it is terminal or `timeout` seconds pass; report each task status change."""
    deadline = clock() + timeout
    seen: dict[str, str] = {}
    delay = 0.2
    while True:
        execution = client.get_execution(workflow_id)
        changed = False
        for task in execution.get("tasks") or []:
            key, status = str(task.get("taskId")), str(task.get("status"))
            if seen.get(key) != status:
                seen[key], changed = status, True
                if on_task:
                    on_task(task_view(task))
        if execution.get("status") in TERMINAL:
            return RunOutcome(workflow_id, execution)
        remaining = deadline - clock()
        if remaining <= 0:
            return RunOutcome(workflow_id, execution, timed_out=True)
        delay = 0.2 if changed else min(delay * 1.5, 1.0)
        sleep(min(delay, remaining))
