"""Purge planning at scale, in-process on synthetic data (no server needed).

    python benchmarks/bench_purge_plan.py [--defs 20000] [--workflow-versions 10000] [--local 2000]
                                          [--dynamic 0] [--sizes 5000,10000,20000]

Builds `--defs` server task definitions stamped as this project's uploads (all but
`--local` of them orphaned), and `--workflow-versions` workflow definitions (four
versions per name) that use part of them through every nesting Conductor has: forks,
switches, loops, inline SUB_WORKFLOW and START_WORKFLOW definitions, and system tasks
that share a definition's name. `--dynamic` of the versions also hold a DYNAMIC task
with an expression name, which makes every unused orphan "uncertain".

Then times the purge planning the CLI and the flows run (`idflow.usecases.purging.plan_purge`:
usage index, sync plan, decision) and its three phases, and prints the peak RSS
(`resource.getrusage`). `--sizes` repeats the decision alone for each orphan count, to
show how it grows.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import gc
import resource
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from idflow.project.config import Config  # noqa: E402
from idflow.provenance.trailer import Provenance, content_hash, optional_fields, stamp  # noqa: E402
from idflow.taskdefs.purge import plan_purge as decide_purge  # noqa: E402
from idflow.taskdefs.usage import build_usage_index  # noqa: E402
from idflow.usecases.purging import WorkflowSources, plan_purge  # noqa: E402
from idflow.usecases.tasks import plan_definitions  # noqa: E402

PROJECT = "bench-purge-plan"
VERSIONS_PER_WORKFLOW = 4


@dataclass
class FakeTask:
    """What discovery yields for one task file: all plan_definitions reads."""
    name: str
    path: str
    line: int
    task_def: dict[str, Any]
    layer: str = "idflow/tasks"
    overrides: tuple[str, ...] = ()


@dataclass
class FakeDiscovery:
    tasks: list[FakeTask]
    errors: list[Any]

    @property
    def issues(self) -> list[Any]:
        return self.errors


def owned(name: str) -> dict[str, Any]:
    return {"name": name, "retryCount": 3, "timeoutSeconds": 600, "responseTimeoutSeconds": 120,
            "timeoutPolicy": "TIME_OUT_WF", "retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 60,
            "rateLimitPerFrequency": 10, "rateLimitFrequencyInSeconds": 60, "concurrentExecLimit": 5,
            "description": f"Task {name}."}


HEAD = [""]  # the commit the stamps name: set in main()


def server_copy(name: str, i: int) -> dict[str, Any]:
    """A task definition as GET /metadata/taskdefs returns it: owned fields, stamp, server defaults."""
    body = owned(name)
    prov = Provenance(HEAD[0], False, f"idflow/tasks/{name}/{name}.py", content_hash(body),
                      "2026-01-01T00:00:00+00:00", project=PROJECT, fields=optional_fields(body))
    return {**owned(name), "description": stamp(f"Task {name}.", prov), "createTime": 1767225600000 + i,
            "updateTime": 1767225600000 + i, "createdBy": "", "updatedBy": "", "ownerApp": "",
            "inputKeys": [], "outputKeys": [], "pollTimeoutSeconds": 3600, "totalTimeoutSeconds": 0,
            "backoffScaleFactor": 1, "enforceSchema": False, "inputTemplate": {}}


def simple(name: str, ref: str) -> dict[str, Any]:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE",
            "inputParameters": {"id": "${workflow.input.id}"}}


def workflow_version(w: int, version: int, used: list[str], dynamic: bool) -> dict[str, Any]:
    """One workflow version: ~14 task nodes over every nesting, 9 of them naming a definition."""
    def pick(k: int) -> str:
        return used[(w * 9 + version * 3 + k) % len(used)]

    inline = {"name": f"wf{w}_child", "version": 1, "schemaVersion": 2,
              "tasks": [simple(pick(5), "c0"), {"name": "loop", "taskReferenceName": "l", "type": "DO_WHILE",
                                                 "loopCondition": "false", "loopOver": [simple(pick(6), "c1")]}]}
    tasks = [
        simple(pick(0), "a"),
        {"name": pick(1), "taskReferenceName": "http", "type": "HTTP",   # a system task sharing a name
         "inputParameters": {"http_request": {"uri": "http://127.0.0.1/x", "method": "GET"}}},
        {"name": "fork", "taskReferenceName": "f", "type": "FORK_JOIN",
         "forkTasks": [[simple(pick(2), "b")], [simple(pick(3), "c")]]},
        {"name": "join", "taskReferenceName": "j", "type": "JOIN", "joinOn": ["b", "c"]},
        {"name": "route", "taskReferenceName": "s", "type": "SWITCH", "evaluatorType": "value-param",
         "expression": "k", "decisionCases": {"x": [simple(pick(4), "d")]},
         "defaultCase": [{"name": "sub", "taskReferenceName": "sub", "type": "SUB_WORKFLOW",
                          "subWorkflowParam": {"name": inline["name"], "version": 1, "workflowDefinition": inline}}]},
        {"name": "start", "taskReferenceName": "st", "type": "START_WORKFLOW",
         "inputParameters": {"startWorkflow": {"name": f"wf{w}_started", "workflowDef": {
             "name": f"wf{w}_started", "version": 1, "tasks": [simple(pick(7), "e"), simple(pick(8), "g")]}}}},
    ]
    if dynamic:
        tasks.append({"name": "dyn", "taskReferenceName": "dyn", "type": "DYNAMIC", "dynamicTaskNameParam": "t",
                      "inputParameters": {"t": "${workflow.input.t}"}})
    return {"name": f"wf{w}", "version": version, "schemaVersion": 2, "tasks": tasks}


def generate(defs: int, versions: int, local: int, dynamic: int):
    names = [f"t{i:06d}" for i in range(defs)]
    taskdefs = [server_copy(n, i) for i, n in enumerate(names)]
    tasks = [FakeTask(n, f"idflow/tasks/{n}/{n}.py", 4, owned(n)) for n in names[:local]]
    used = names[::4]   # a quarter of the names, local and orphaned alike, appear in some workflow
    workflows = [workflow_version(w, v, used, dynamic=(w * VERSIONS_PER_WORKFLOW + v) < dynamic)
                 for w in range(-(-versions // VERSIONS_PER_WORKFLOW)) for v in range(VERSIONS_PER_WORKFLOW)]
    return taskdefs, FakeDiscovery(tasks, []), workflows[:versions]


def timed(fn, *args, **kwargs):
    """(value, wall seconds, CPU seconds): on a shared machine the CPU time is the steadier figure."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start, time.process_time() - cpu


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defs", type=int, default=20_000)
    parser.add_argument("--workflow-versions", type=int, default=10_000)
    parser.add_argument("--local", type=int, default=2_000, help="definitions that still have a task file")
    parser.add_argument("--dynamic", type=int, default=0, help="workflow versions with a DYNAMIC expression task")
    parser.add_argument("--sizes", default="", help="also time the decision alone for these orphan counts")
    args = parser.parse_args(argv)

    # The stamps name a commit of a real repository, as after a team deleted the tasks and committed:
    # the purge plan reads that repository's Git history (idflow.provenance.lineage) like the CLI does.
    checkout = Path(tempfile.mkdtemp(prefix="idflow-bench-purge-"))
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run([*git, "init", "-q"], cwd=checkout, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "tasks deleted"], cwd=checkout, check=True)
    HEAD[0] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, check=True, capture_output=True,
                             text=True).stdout.strip()
    os.chdir(checkout)
    taskdefs, discovery, workflows = generate(args.defs, args.workflow_versions, args.local, args.dynamic)
    config = replace(Config(), project=PROJECT)
    sources = WorkflowSources(workflows, [], [])
    gc.collect()
    data_rss = rss_mb()

    purge, *total = timed(plan_purge, config, discovery, taskdefs, sources, orphaned=True)
    usage, *t_usage = timed(build_usage_index, workflows, [])
    plan, *t_plan = timed(plan_definitions, config, discovery.tasks, taskdefs)
    _, *t_decide = timed(decide_purge, plan, usage, orphaned=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    orphans = args.defs - args.local
    print(f"{args.defs} definitions ({orphans} orphaned), {len(workflows)} workflow versions, "
          f"{args.dynamic} with a DYNAMIC expression task")
    print(f"{'':48} {'wall s':>7} {'CPU s':>7}")
    print(f"{'purge plan, total (usecases.purge.plan_purge)':48} {total[0]:7.3f} {total[1]:7.3f}  "
          f"-> {len(purge.deletions)} to delete, {len(purge.skipped)} kept, {len(purge.uncertain)} uncertain sites")
    print(f"{'  usage index':48} {t_usage[0]:7.3f} {t_usage[1]:7.3f}  "
          f"{sum(len(u) for u in usage.uses.values())} uses of {len(usage.uses)} names")
    print(f"{'  sync plan (make_plan)':48} {t_plan[0]:7.3f} {t_plan[1]:7.3f}")
    print(f"{'  decision (purge.plan_purge)':48} {t_decide[0]:7.3f} {t_decide[1]:7.3f}")
    print(f"  RSS with the input data loaded {data_rss:.0f} MB; peak RSS {peak:.0f} MB")
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        sub_defs, sub_discovery, _ = generate(size + args.local, 0, args.local, 0)
        sub_plan = plan_definitions(config, sub_discovery.tasks, sub_defs)
        _, wall, cpu = timed(decide_purge, sub_plan, usage, orphaned=True)
        print(f"{f'decision alone for {size} orphans':48} {wall:7.3f} {cpu:7.3f}")


if __name__ == "__main__":
    main()
