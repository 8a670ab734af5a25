"""The usage index: which workflows (every version, server and local) use which TaskDefs.

Pure functions on plain data: workflow definitions in Conductor's JSON form in, a
`UsageIndex` out. Purge asks it before deleting a definition, upload asks
`unknown_task_references` before sending a workflow.

When a task counts as a use of the TaskDef with its `name`:
- type missing or "SIMPLE": always (even with an inline `taskDefinition`: the
  server copy may still be what a run picks up, and over-counting only makes a
  purge more careful);
- a known system type (HTTP, INLINE, SWITCH, SUB_WORKFLOW, ...): never, whatever
  its name (SUB_WORKFLOW names a workflow, not a task);
- any other type (USER_DEFINED, a plugin's type, a typo): when it has no inline
  `taskDefinition`, because Conductor then looks the TaskDef up by name;
- DYNAMIC: when its task-name input is a literal; otherwise, like every
  FORK_JOIN_DYNAMIC, the name is only known at run time and the index records an
  `Uncertainty` instead.
Input is never trusted: malformed nodes are skipped, nesting is bounded.
"""
from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # only for types: the index itself reads no files
    from idflow.workflow_files import LocalWorkflow

MAX_DEPTH = 200
# Beyond this many task nodes in one workflow the walk stops (in practice only
# reachable through YAML aliases that repeat a shared subtree many times over).
MAX_NODES_PER_WORKFLOW = 200_000

SERVER = "server"
DYNAMIC_TYPES = ("DYNAMIC", "FORK_JOIN_DYNAMIC")
# Recorded as an Uncertainty's task_type when a workflow could not be walked to
# the end (too deep or too large): anything may hide in the part not seen.
UNWALKED = "UNWALKED"

SYSTEM_TYPES = frozenset({
    "DYNAMIC", "FORK_JOIN", "FORK_JOIN_DYNAMIC", "DECISION", "SWITCH", "JOIN", "EXCLUSIVE_JOIN",
    "DO_WHILE", "SUB_WORKFLOW", "START_WORKFLOW", "EVENT", "WAIT", "HUMAN", "HTTP", "LAMBDA",
    "INLINE", "TERMINATE", "KAFKA_PUBLISH", "JSON_JQ_TRANSFORM", "SET_VARIABLE", "NOOP",
    "WAIT_FOR_WEBHOOK", "BUSINESS_RULE", "JDBC", "HTTP_POLL",
})

Verdict = Literal["used", "uncertain", "unused"]


def _label(workflow: str, version: int | None, source: str) -> str:
    if source != SERVER:
        return f"{workflow} (local file {source})"
    return f"{workflow} v{version}" if version is not None else workflow


@dataclass(frozen=True, slots=True)
class Use:
    workflow: str
    version: int | None  # None for local files
    where: str           # e.g. tasks[2].forkTasks[0][1]
    source: str          # "server" or the local file's path

    def __str__(self) -> str:
        return f"{_label(self.workflow, self.version, self.source)} {self.where}"


@dataclass(frozen=True, slots=True)
class Uncertainty:
    workflow: str
    version: int | None
    where: str
    task_type: str       # "DYNAMIC" | "FORK_JOIN_DYNAMIC" (| "UNWALKED")
    source: str

    def __str__(self) -> str:
        return f"{_label(self.workflow, self.version, self.source)} {self.where} ({self.task_type})"


@dataclass
class UsageIndex:
    uses: dict[str, list[Use]] = field(default_factory=dict)
    uncertain: list[Uncertainty] = field(default_factory=list)

    def uses_of(self, name: str) -> list[Use]:
        return list(self.uses.get(name, ()))

    def is_used(self, name: str) -> bool:
        return bool(self.uses.get(name))

    def verdict(self, name: str) -> Verdict:
        """used; else uncertain when some workflow picks tasks at run time; else unused."""
        if self.uses.get(name):
            return "used"
        return "uncertain" if self.uncertain else "unused"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (names sorted): {"uses": {name: [use, ...]}, "uncertain": [...]}."""
        return {
            "uses": {name: [asdict(u) for u in self.uses[name]] for name in sorted(self.uses)},
            "uncertain": [asdict(u) for u in self.uncertain],
        }


NESTING_KEYS = frozenset({"forkTasks", "decisionCases", "defaultCase", "loopOver", "subWorkflowParam"})


@dataclass
class TaskWalk:
    """Every task dict of one workflow definition in document order, with its path."""
    # Two parallel lists rather than a list of pairs: one allocation fewer per task.
    tasks: list[dict[str, Any]] = field(default_factory=list)
    wheres: list[str] = field(default_factory=list)   # e.g. tasks[2].forkTasks[0][1]
    complete: bool = True                              # False: stopped at MAX_DEPTH or MAX_NODES_PER_WORKFLOW
    stopped_at: str = ""

    def __iter__(self) -> Iterator[tuple[dict[str, Any], str]]:
        return zip(self.tasks, self.wheres)


def walk_tasks(workflow: Any) -> TaskWalk:
    walk = TaskWalk()
    if isinstance(workflow, dict):
        _walk_list(workflow.get("tasks"), "tasks", 0, walk, set())
    return walk


def _walk_list(tasks: Any, prefix: str, depth: int, walk: TaskWalk, active: set[int]) -> None:
    if not isinstance(tasks, list) or id(tasks) in active:
        return
    seen, wheres = walk.tasks, walk.wheres
    if depth >= MAX_DEPTH or len(seen) >= MAX_NODES_PER_WORKFLOW:
        if walk.complete:
            walk.complete, walk.stopped_at = False, prefix
        return
    active.add(id(tasks))
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue
        where = f"{prefix}[{i}]"
        seen.append(task)
        wheres.append(where)
        # Most tasks nest nothing: test for that before paying for the full look.
        if not task.keys().isdisjoint(NESTING_KEYS):
            _walk_children(task, where, depth + 1, walk, active)
    active.discard(id(tasks))


def _walk_children(task: dict[str, Any], where: str, depth: int, walk: TaskWalk, active: set[int]) -> None:
    # Every nesting key is followed whatever the task's type says: a stray branch
    # is still a reference the server stores.
    forks = task.get("forkTasks")
    if isinstance(forks, list):
        for j, branch in enumerate(forks):
            _walk_list(branch, f"{where}.forkTasks[{j}]", depth, walk, active)
    cases = task.get("decisionCases")
    if isinstance(cases, dict):
        for key, branch in cases.items():
            _walk_list(branch, f"{where}.decisionCases[{json.dumps(str(key))}]", depth, walk, active)
    _walk_list(task.get("defaultCase"), f"{where}.defaultCase", depth, walk, active)
    _walk_list(task.get("loopOver"), f"{where}.loopOver", depth, walk, active)
    param = task.get("subWorkflowParam")
    inline = param.get("workflowDefinition") if isinstance(param, dict) else None
    if isinstance(inline, dict):
        _walk_list(inline.get("tasks"), f"{where}.subWorkflowParam.workflowDefinition.tasks",
                   depth, walk, active)


def _dynamic_literal_name(task: dict[str, Any]) -> str | None:
    """The task a DYNAMIC task runs when its name input is a literal, not an expression."""
    param, inputs = task.get("dynamicTaskNameParam"), task.get("inputParameters")
    if not isinstance(param, str) or not isinstance(inputs, dict):
        return None
    value = inputs.get(param)
    if isinstance(value, str) and value and "${" not in value:
        return value
    return None


def referenced_name(task: dict[str, Any]) -> str | None:
    """The TaskDef name this task uses, or None (see the module docstring)."""
    kind = task.get("type")
    if kind == "DYNAMIC":
        return _dynamic_literal_name(task)
    name = task.get("name")
    if not isinstance(name, str) or not name:
        return None
    if kind is None or kind == "SIMPLE":
        return name
    if not isinstance(kind, str) or kind in SYSTEM_TYPES:
        return None
    return name if task.get("taskDefinition") is None else None


def _version(workflow: dict[str, Any]) -> int | None:
    version = workflow.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _workflow_name(workflow: dict[str, Any]) -> str:
    name = workflow.get("name")
    return name if isinstance(name, str) and name else "<unnamed>"


def _sources(server_workflows: Iterable[Any], local_workflows: Iterable[Any]
             ) -> Iterator[tuple[dict[str, Any], int | None, str]]:
    for workflow in server_workflows if isinstance(server_workflows, (list, tuple)) else ():
        if isinstance(workflow, dict):
            yield workflow, _version(workflow), SERVER
    for local in local_workflows if isinstance(local_workflows, (list, tuple)) else ():
        definition, path = getattr(local, "definition", None), getattr(local, "path", None)
        if isinstance(definition, dict) and isinstance(path, str):
            yield definition, None, path


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Building the index allocates a Use per reference, which sets off full
    # collections that traverse the caller's whole (large, cycle-free) workflow
    # data: on 3,000 definitions that was half the run time. Nothing built here
    # forms a cycle, so pausing the collector loses nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_usage_index(server_workflows: list[dict[str, Any]],
                      local_workflows: Iterable[LocalWorkflow] = ()) -> UsageIndex:
    """Index every use of every TaskDef name across all workflow versions given."""
    with _gc_paused():
        return _build(server_workflows, local_workflows)


def _build(server_workflows: Any, local_workflows: Any) -> UsageIndex:
    index = UsageIndex()
    uses = index.uses
    for workflow, version, source in _sources(server_workflows, tuple(local_workflows or ())):
        name = _workflow_name(workflow)
        walk = walk_tasks(workflow)
        for task, where in walk:
            kind = task.get("type")
            if kind is None or kind == "SIMPLE":  # the common case, without a call
                target = task.get("name")
                if not isinstance(target, str) or not target:
                    continue
            else:
                target = referenced_name(task)
            if target is not None:
                uses.setdefault(target, []).append(Use(name, version, where, source))
            elif kind in DYNAMIC_TYPES:
                index.uncertain.append(Uncertainty(name, version, where, kind, source))
        if not walk.complete:
            index.uncertain.append(Uncertainty(name, version, walk.stopped_at, UNWALKED, source))
    return index


def unknown_task_references(workflow: dict[str, Any], known_task_names: set[str]) -> list[tuple[str, str]]:
    """(name, where) of each SIMPLE task the server would reject for lack of a TaskDef.

    A SIMPLE task with an inline `taskDefinition` needs no TaskDef on the server,
    so it is not reported (unlike in the usage index, which errs towards "used").
    """
    found: list[tuple[str, str]] = []
    for task, where in walk_tasks(workflow):
        name = task.get("name")
        if task.get("type", "SIMPLE") not in (None, "SIMPLE") or not isinstance(name, str) or not name:
            continue
        if task.get("taskDefinition") is None and name not in known_task_names:
            found.append((name, where))
    return found
