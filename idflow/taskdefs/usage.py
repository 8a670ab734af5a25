"""The usage index: which workflows (every version, server and local) use which TaskDefs.

Pure functions on plain data: workflow definitions in Conductor's JSON form in, a
`UsageIndex` out. Purge asks it before deleting a definition, upload asks
`unknown_task_references` before sending a workflow.

A task uses the TaskDef with its `name`, whatever its `type`: Conductor looks a
same-named TaskDef up for every workflow task, system tasks included (HTTP,
JSON_JQ_TRANSFORM, INLINE, SUB_WORKFLOW, ...), and takes its retries, timeouts and
rate limits from it. An inline `taskDefinition` does not change that here: counting
too much only makes a purge more careful. A DYNAMIC task also uses the task its
name input names, when that input is a literal.

Inline workflow definitions are walked like top-level ones, at any depth:
SUB_WORKFLOW `subWorkflowParam.workflowDefinition` and START_WORKFLOW
`inputParameters.startWorkflow.workflowDef`, inside forks, switches, loops and
each other.

Some tasks choose at run time what they run; the index records an `Uncertainty`
(which workflow, where, why) for each, and every unused name is then "uncertain".
From the task types of the Conductor OSS 3.32.3 server (TaskType, the task mappers,
the annotated system tasks of its AI/agent modules):
- DYNAMIC whose task-name input is not a literal;
- FORK_JOIN_DYNAMIC, always (its task list, or forkTaskName, is an input);
- SUB_WORKFLOW and START_WORKFLOW whose workflow name, start request or inline
  definition is an expression (`${...}`, or a definition given as a string): the
  server evaluates these parameters before it picks the workflow;
- inside an inline definition, a task name or task list given as an expression
  (the whole definition is evaluated as a parameter);
- PLAN_AND_COMPILE (agent runtime), which compiles a workflow from a plan made at
  run time.
The other types run fixed work or call outside services (HTTP, LLM_*, CALL_MCP_TOOL,
AGENT, JDBC, ...); LLM_CHAT_COMPLETE only returns tool calls, which a workflow runs
through DYNAMIC or FORK_JOIN_DYNAMIC, both uncertain already.
Input is never trusted: malformed nodes are skipped, nesting is bounded.
"""
from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol



class LocalDefinition(Protocol):
    """A workflow read from a local file (idflow.workflowdefs.files.LocalWorkflow): the index reads no files."""

    definition: dict[str, Any]
    path: str

MAX_DEPTH = 200
# Beyond this many task nodes in one workflow the walk stops (in practice only
# reachable through YAML aliases that repeat a shared subtree many times over).
MAX_NODES_PER_WORKFLOW = 200_000

SERVER = "server"
EXPRESSION = "${"
DYNAMIC_TYPES = ("DYNAMIC", "FORK_JOIN_DYNAMIC")
# Recorded as an Uncertainty's task_type when a workflow could not be walked to
# the end (too deep or too large): anything may hide in the part not seen.
UNWALKED = "UNWALKED"
# Recorded when a task list inside an inline definition is an expression.
INLINE_EXPRESSION = "INLINE_EXPRESSION"
# Task types that may choose at run time what they run (see `run_time_choice`).
CHOOSERS = frozenset({"DYNAMIC", "FORK_JOIN_DYNAMIC", "SUB_WORKFLOW", "START_WORKFLOW", "PLAN_AND_COMPILE"})
SUB_WORKFLOW_INLINE = ".subWorkflowParam.workflowDefinition"
START_WORKFLOW_INLINE = ".inputParameters.startWorkflow.workflowDef"

Verdict = Literal["used", "uncertain", "unused"]


def _label(workflow: str, version: int | None, source: str) -> str:
    if source != SERVER:
        return f"{workflow} (local file {source})"
    return f"{workflow} v{version}" if version is not None else workflow


@dataclass(frozen=True, slots=True)
class Use:
    """One workflow task that uses a task definition by name: which workflow and version, where, and from where."""
    workflow: str
    version: int | None  # None for local files
    where: str           # e.g. tasks[2].forkTasks[0][1]
    source: str          # "server" or the local file's path

    def __str__(self) -> str:
        return f"{_label(self.workflow, self.version, self.source)} {self.where}"


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """A workflow task that chooses at run time what it runs, so no task definition can be called unused."""
    workflow: str
    version: int | None
    where: str
    task_type: str       # the choosing task's type (DYNAMIC, SUB_WORKFLOW, ...), UNWALKED or INLINE_EXPRESSION
    source: str
    reason: str = ""     # what is chosen at run time

    def __str__(self) -> str:
        why = f"{self.task_type}: {self.reason}" if self.reason else self.task_type
        return f"{_label(self.workflow, self.version, self.source)} {self.where} ({why})"


@dataclass
class UsageIndex:
    """Which workflows use each task definition, and the tasks that make usage unknowable."""
    uses: dict[str, list[Use]] = field(default_factory=dict)
    uncertain: list[Uncertainty] = field(default_factory=list)

    def uses_of(self, name: str) -> list[Use]:
        return list(self.uses.get(name, ()))

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
    expressions: list[str] = field(default_factory=list)  # wheres of task lists/tasks given as `${...}`

    def __iter__(self) -> Iterator[tuple[dict[str, Any], str]]:
        return zip(self.tasks, self.wheres)


def walk_tasks(workflow: Any) -> TaskWalk:
    walk = TaskWalk()
    if isinstance(workflow, dict):
        _walk_list(workflow.get("tasks"), "tasks", 0, walk, set())
    return walk


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and EXPRESSION in value


def _walk_list(tasks: Any, prefix: str, depth: int, walk: TaskWalk, active: set[int]) -> None:
    if not isinstance(tasks, list) or id(tasks) in active:
        if _is_expression(tasks):
            walk.expressions.append(prefix)
        return
    seen, wheres = walk.tasks, walk.wheres
    if depth >= MAX_DEPTH or len(seen) >= MAX_NODES_PER_WORKFLOW:
        if walk.complete:
            walk.complete, walk.stopped_at = False, prefix
        return
    active.add(id(tasks))
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            if _is_expression(task):
                walk.expressions.append(f"{prefix}[{i}]")
            continue
        where = f"{prefix}[{i}]"
        seen.append(task)
        wheres.append(where)
        # Most tasks nest nothing: test for that before paying for the full look.
        if not task.keys().isdisjoint(NESTING_KEYS) or task.get("type") == "START_WORKFLOW":
            _walk_children(task, where, depth + 1, walk, active)
    active.discard(id(tasks))


def _walk_children(task: dict[str, Any], where: str, depth: int, walk: TaskWalk, active: set[int]) -> None:
    # Every nesting key is followed whatever the task's type says: a stray branch
    # is still a reference the server stores. Paths are only formatted for values
    # there is something to walk in (most of these keys hold nothing).
    forks = task.get("forkTasks")
    if forks and isinstance(forks, list):
        for j, branch in enumerate(forks):
            if branch:
                _walk_list(branch, f"{where}.forkTasks[{j}]", depth, walk, active)
    cases = task.get("decisionCases")
    if cases and isinstance(cases, dict):
        for key, branch in cases.items():
            if branch:
                _walk_list(branch, f"{where}.decisionCases[{json.dumps(str(key))}]", depth, walk, active)
    for key in ("defaultCase", "loopOver"):
        branch = task.get(key)
        if branch:
            _walk_list(branch, f"{where}.{key}", depth, walk, active)
    inline = _get(task.get("subWorkflowParam"), "workflowDefinition")
    if isinstance(inline, dict) and inline.get("tasks"):
        _walk_list(inline["tasks"], f"{where}{SUB_WORKFLOW_INLINE}.tasks", depth, walk, active)
    if task.get("type") == "START_WORKFLOW":
        inline = _get(_get(task.get("inputParameters"), "startWorkflow"), "workflowDef")
        if isinstance(inline, dict) and inline.get("tasks"):
            _walk_list(inline["tasks"], f"{where}{START_WORKFLOW_INLINE}.tasks", depth, walk, active)


def _get(container: Any, key: str) -> Any:
    return container.get(key) if isinstance(container, dict) else None


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) and value and EXPRESSION not in value else None


def _dynamic_literal_name(task: dict[str, Any]) -> str | None:
    """The task a DYNAMIC task runs when its name input is a literal, not an expression."""
    param, inputs = task.get("dynamicTaskNameParam"), task.get("inputParameters")
    if not isinstance(param, str) or not isinstance(inputs, dict):
        return None
    return _literal(inputs.get(param))


def referenced_names(task: dict[str, Any]) -> list[str]:
    """The TaskDef names this task uses (see the module docstring)."""
    name = task.get("name")
    found = [name] if isinstance(name, str) and name else []
    kind = task.get("type")
    target = (_dynamic_literal_name(task) if kind == "DYNAMIC"
              else _literal(_get(task.get("inputParameters"), "forkTaskName")) if kind == "FORK_JOIN_DYNAMIC"
              else None)
    if target is not None and target not in found:
        found.append(target)
    return found


def run_time_choice(task: dict[str, Any]) -> str | None:
    """Why this task chooses at run time what it runs, or None when it does not."""
    kind = task.get("type")
    if kind == "DYNAMIC":
        return None if _dynamic_literal_name(task) else "task name chosen at run time"
    if kind == "FORK_JOIN_DYNAMIC":
        return "forked tasks chosen at run time"
    if kind == "PLAN_AND_COMPILE":
        return "compiles a workflow from a plan made at run time"
    if kind == "SUB_WORKFLOW":
        param = task.get("subWorkflowParam")
        if _is_expression(param) or _is_expression(_get(param, "name")):
            return "sub-workflow name chosen at run time"
        if isinstance(_get(param, "workflowDefinition"), str):
            return "inline sub-workflow definition given as an expression"
    if kind == "START_WORKFLOW":
        request = _get(task.get("inputParameters"), "startWorkflow")
        if _is_expression(request):
            return "start request chosen at run time"
        if _is_expression(_get(request, "name")):
            return "workflow name chosen at run time"
        if isinstance(_get(request, "workflowDef"), str):
            return "inline workflow definition given as an expression"
    return None


def _in_inline_definition(where: str) -> bool:
    return SUB_WORKFLOW_INLINE in where or START_WORKFLOW_INLINE in where


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
                      local_workflows: Iterable[LocalDefinition] = ()) -> UsageIndex:
    """Index every use of every TaskDef name across all workflow versions given."""
    with _gc_paused():
        return _build(server_workflows, local_workflows)


def _build(server_workflows: Any, local_workflows: Any) -> UsageIndex:
    index = UsageIndex()
    uses, uncertain = index.uses, index.uncertain
    for workflow, version, source in _sources(server_workflows, tuple(local_workflows or ())):
        name = _workflow_name(workflow)
        walk = walk_tasks(workflow)
        for task, where in walk:
            target = task.get("name")
            if isinstance(target, str) and target:  # the common case, without a call
                uses.setdefault(target, []).append(Use(name, version, where, source))
                if EXPRESSION in target and _in_inline_definition(where):
                    uncertain.append(Uncertainty(name, version, where, str(task.get("type") or "SIMPLE"), source,
                                                 "task name in an inline definition chosen at run time"))
            kind = task.get("type")
            if isinstance(kind, str) and kind in CHOOSERS:
                for extra in referenced_names(task):
                    if extra != target:
                        uses.setdefault(extra, []).append(Use(name, version, where, source))
                why = run_time_choice(task)
                if why is not None:
                    uncertain.append(Uncertainty(name, version, where, kind, source, why))
        for where in walk.expressions:
            uncertain.append(Uncertainty(name, version, where, INLINE_EXPRESSION, source,
                                         "tasks in an inline definition given as an expression"))
        if not walk.complete:
            uncertain.append(Uncertainty(name, version, walk.stopped_at, UNWALKED, source,
                                         "nested too deep or too large to read to the end"))
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
