"""Looking at definitions: one in full (`tasks show NAME`) and the server's with their usage
(`tasks list --remote`).

Steps: `discover` and `fetch_*` at the edges (one GET of the definition, one of the workflows),
then pure assembly: the plan item says how the local and server copies differ, the trailer says
where the server copy came from, the usage index says which workflows use it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from idflow.base.errors import NoSuchTask, NotFound
from idflow.usecases.purging import WorkflowSources, fetch_workflows
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.tasks import discover, fetch_taskdefs, plan_definitions
from idflow.provenance.trailer import parse_provenance
from idflow.taskdefs.usage import build_usage_index


def fetch_taskdef(session: Session, name: str) -> dict[str, Any] | None:
    """The server's copy of one definition (None: not on the server)."""
    try:
        return session.client.get_taskdef(name)
    except NotFound:
        return None


@dataclass
class Usage:
    """Where workflows use one definition, and whether some workflow chooses its tasks at run time."""

    verdict: str                                             # used / uncertain / unused
    uses: list[dict[str, Any]] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)       # the run-time choosers, as text
    unreadable: list[str] = field(default_factory=list)      # local workflow files that could not be read

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def usage_of(workflows: WorkflowSources, name: str) -> Usage:
    index = build_usage_index(workflows.server, workflows.local)
    return Usage(index.verdict(name), [asdict(u) for u in index.uses_of(name)], [str(u) for u in index.uncertain],
                 [f"{i.path}:{i.line}: {i.message}" for i in workflows.issues])


@dataclass
class TaskView:
    """`tasks show NAME`: the local definition, the server copy, their difference, provenance, usage."""

    name: str
    status: str                          # a plan action: create, update, unchanged, orphaned, foreign
    local: dict[str, Any] | None         # the owned fields the task file asks for
    source: str | None                   # path:line of the task file
    server: dict[str, Any] | None        # the server copy as it is
    changes: list[dict[str, Any]]        # field, old (server), new (local)
    provenance: dict[str, Any] | None    # the trailer on the server copy
    usage: Usage
    problems: list[str] = field(default_factory=list)   # why the local definition is invalid
    reason: str = ""                     # why an uncertain definition is kept
    owner: str | None = None             # another idflow project that stamped the server copy

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "local": self.local, "source": self.source,
                "server": self.server, "changes": self.changes, "provenance": self.provenance,
                "usage": self.usage.to_json(), "problems": self.problems, "reason": self.reason,
                "owner": self.owner}


def show(session: Session, name: str, *, run: StepRunner = direct) -> TaskView:
    """One definition in full; NoSuchTask (exit 1) when it is neither local nor on the server."""
    config = session.config
    discovery = run(discover, config)
    task = discovery.by_name().get(name)
    server = run(fetch_taskdef, session, name)
    if task is None and server is None:
        known = sorted(discovery.by_name())
        raise NoSuchTask(f"no task named {name} in the task files or on the server",
                         hint=f"'idflow tasks list' lists them ({len(known)} local)")
    workflows = run(fetch_workflows, session)
    plan = plan_definitions(config, [task] if task is not None else [], [server] if server is not None else [])
    item = plan.item(name)
    stamp = parse_provenance(server.get("description")) if server else None
    return TaskView(name=name, status=item.action if item else "unknown",
                    local=task.task_def if task is not None else None,
                    source=f"{task.path}:{task.line}" if task is not None else None, server=server,
                    changes=[{"field": c.field, "old": c.old, "new": c.new} for c in (item.changes if item else ())],
                    provenance=asdict(stamp) if stamp else None, usage=usage_of(workflows, name),
                    problems=list(getattr(task, "problems", ()) or ()), reason=item.reason if item else "",
                    owner=item.owner if item else None)


@dataclass
class RemoteListing:
    """`tasks list --remote`: the server's definitions and how many workflows use each."""

    taskdefs: list[dict[str, Any]]
    usage: dict[str, int]                # name -> number of workflows (by name) that use it
    uncertain: int = 0                   # workflow tasks that choose what they run at run time

    def to_json(self) -> dict[str, Any]:
        return {"remote": self.taskdefs, "usage": self.usage, "uncertain": self.uncertain}


def count_uses(workflows: WorkflowSources, names: list[str]) -> tuple[dict[str, int], int]:
    """How many workflows (by name, server or local) use each of `names`, and how many workflow
    tasks choose what they run at run time (then a 0 may be wrong)."""
    index = build_usage_index(workflows.server, workflows.local)
    return {n: len({u.workflow for u in index.uses_of(n)}) for n in names}, len(index.uncertain)


def list_remote(session: Session, *, run: StepRunner = direct) -> RemoteListing:
    taskdefs = run(fetch_taskdefs, session)
    workflows = run(fetch_workflows, session)
    usage, uncertain = count_uses(workflows, [str(d.get("name")) for d in taskdefs])
    return RemoteListing(taskdefs, usage, uncertain)
