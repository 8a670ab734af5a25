"""Which workflow versions something still uses (pure): other workflows, event handlers, schedules.

A workflow version is used by
- a SUB_WORKFLOW task naming it (`subWorkflowParam.name`, and `.version`; no version: the latest at run time);
- a START_WORKFLOW task naming it (`inputParameters.startWorkflow.name` / `.version`);
at any depth (FORK_JOIN branches, DECISION/SWITCH cases and default, DO_WHILE loopOver, inline sub-workflow and
START_WORKFLOW definitions: `idflow.taskdefs.usage.walk_tasks` walks them all), in every server version and every
local file; a task whose `workflowDefinition` / `workflowDef` is inline runs that, not a stored one;
- an event handler whose `start_workflow` action names it;
- a schedule starting it (where the server has a scheduler).
A name chosen at run time (`${...}`, FORK_JOIN_DYNAMIC, DYNAMIC, ...) makes every unused version uncertain, as for
task definitions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from idflow.taskdefs.usage import CHOOSERS, EXPRESSION, run_time_choice, walk_tasks
from idflow.workflowdefs.files import LocalWorkflow
from idflow.workflowdefs.sync import version_of

LATEST = None      # a reference without a version: whichever version is the latest when it runs


@dataclass(frozen=True)
class WorkflowUse:
    """One reference to a workflow version: from a workflow task, an event handler or a schedule."""
    name: str                 # the workflow used
    version: int | None       # None: the latest at run time
    by: str                   # who uses it, e.g. "workflow parent v1 tasks[0].forkTasks[1][0]"
    source: tuple[str, int] | None = None   # the server workflow version that uses it (None: a file, a handler...)

    def __str__(self) -> str:
        return f"{self.by} (version {self.version if self.version is not None else 'latest'})"


@dataclass
class WorkflowUsage:
    """Every use of workflow versions, what makes usage unknowable, and what could not be looked at."""
    uses: list[WorkflowUse] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)   # what makes usage unknowable, and where
    notes: list[str] = field(default_factory=list)       # what could not be looked at (e.g. no scheduler)

    def uses_of(self, name: str, version: int, latest: int, ignore: Iterable[tuple[str, int]] = ()) -> list[str]:
        """Who uses (name, version): a reference to that version, or to no version while it is the latest;
        `ignore`: server versions whose uses do not count (those deleted in the same purge)."""
        skipped = set(ignore)
        return [str(u) for u in self.uses if u.name == name and (u.source is None or u.source not in skipped)
                and (u.version == version or (u.version is None and version == latest))]


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) and value and EXPRESSION not in value else None


def _version(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def references(definition: dict[str, Any]) -> tuple[list[tuple[str, int | None, str]], list[str]]:
    """([(workflow name, version or None, where)], [run-time choices: where (why)]) of one definition."""
    found: list[tuple[str, int | None, str]] = []
    doubts: list[str] = []
    walk = walk_tasks(definition)
    for task, where in walk:
        kind = task.get("type")
        if kind == "SUB_WORKFLOW":
            param = task.get("subWorkflowParam")
            if isinstance(param, dict) and not isinstance(param.get("workflowDefinition"), dict):
                name = _literal(param.get("name"))
                if name:
                    found.append((name, _version(param.get("version")), where))
        elif kind == "START_WORKFLOW":
            inputs = task.get("inputParameters")
            request = inputs.get("startWorkflow") if isinstance(inputs, dict) else None
            if isinstance(request, dict) and not isinstance(request.get("workflowDef"), dict):
                name = _literal(request.get("name"))
                if name:
                    found.append((name, _version(request.get("version")), where))
        if isinstance(kind, str) and kind in CHOOSERS:
            why = run_time_choice(task)
            if why:
                doubts.append(f"{where} ({kind}: {why})")
    doubts.extend(f"{where} (tasks of an inline definition given as an expression)" for where in walk.expressions)
    if not walk.complete:
        doubts.append(f"{walk.stopped_at} (nested too deep or too large to read to the end)")
    return found, doubts


def build_workflow_usage(server: Iterable[dict[str, Any]], local: Iterable[LocalWorkflow] = (),
                         handlers: Iterable[dict[str, Any]] = (), schedules: Iterable[dict[str, Any]] | None = None
                         ) -> WorkflowUsage:
    """Every use of every workflow name; `schedules` None: the server has no scheduler (said in notes)."""
    usage = WorkflowUsage()
    sources: list[tuple[dict[str, Any], str, tuple[str, int] | None]] = []
    for definition in server:
        if isinstance(definition, dict):
            key = (str(definition.get("name")), version_of(definition))
            sources.append((definition, f"workflow {key[0]} v{key[1]}", key))
    for workflow in local:
        sources.append((workflow.definition, f"local file {workflow.path} ({workflow.definition.get('name')})", None))
    for definition, who, key in sources:
        found, doubts = references(definition)
        usage.uses.extend(WorkflowUse(name, version, f"{who} {where}", key) for name, version, where in found)
        usage.uncertain.extend(f"{who} {doubt}" for doubt in doubts)
    for handler in handlers:
        for index, action in enumerate(handler.get("actions") or [] if isinstance(handler, dict) else []):
            start = action.get("start_workflow") if isinstance(action, dict) else None
            if not isinstance(start, dict) or action.get("action") not in (None, "start_workflow"):
                continue
            who = f"event handler {handler.get('name')} actions[{index}]"
            name = _literal(start.get("name"))
            if name:
                usage.uses.append(WorkflowUse(name, _version(start.get("version")), who))
            elif start.get("name"):
                usage.uncertain.append(f"{who} (start_workflow: workflow name chosen at run time)")
    if schedules is None:
        usage.notes.append("server has no schedules (no scheduler API): none checked")
    for schedule in schedules or []:
        request = schedule.get("startWorkflowRequest") if isinstance(schedule, dict) else None
        name = _literal(request.get("name")) if isinstance(request, dict) else None
        if name:
            usage.uses.append(WorkflowUse(name, _version(request.get("version")), f"schedule {schedule.get('name')}"))
    return usage
