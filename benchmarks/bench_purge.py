"""Usage check and purge against the real server.

    python benchmarks/bench_purge.py [--workflows 1000] [--taskdefs 2000] [--orphans 500]

Registers `--taskdefs` idflow-stamped definitions and `--workflows` workflows using
half of them, then times: fetching all workflows + building the usage index, the
purge of `--orphans` unused orphans (bounded concurrency) and, for comparison, the
same number of deletes one at a time. Cleans up after itself.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import delete_prefixed, peak_rss_mb, server_url  # noqa: E402
from idflow import taskdef  # noqa: E402
from idflow.conductor.client import ConductorClient  # noqa: E402
from idflow.taskdefs.plan import make_plan  # noqa: E402
from idflow.provenance.trailer import Provenance, stamp  # noqa: E402
from idflow.taskdefs.purge import execute_purge, plan_purge  # noqa: E402
from idflow.taskdefs.usage import build_usage_index  # noqa: E402


def workflow(name: str, tasks: list[str]) -> dict:
    simple = [{"name": t, "taskReferenceName": f"r{i}", "type": "SIMPLE"} for i, t in enumerate(tasks)]
    return {"name": name, "version": 1, "schemaVersion": 2, "tasks": [
        simple[0], {"name": "f", "taskReferenceName": "fork", "type": "FORK_JOIN", "forkTasks": [simple[1:2], simple[2:3]]},
        {"name": "j", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["r1", "r2"]},
        {"name": "s", "taskReferenceName": "sw", "type": "SWITCH", "evaluatorType": "value-param", "expression": "k",
         "decisionCases": {"a": simple[3:4]}, "defaultCase": simple[4:]}]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--taskdefs", type=int, default=2000)
    parser.add_argument("--orphans", type=int, default=500)
    args = parser.parse_args()
    prefix = f"bp{uuid.uuid4().hex[:6]}_"
    prov = Provenance(None, False, "gone.py", "h", "2026-01-01T00:00:00+00:00", project=prefix)
    names = [f"{prefix}{i}" for i in range(args.taskdefs)]
    used = names[: args.taskdefs // 2]
    rows = []
    with ConductorClient(server_url()) as client:
        try:
            defs = [dict(taskdef.build(n, {"timeout_seconds": 60}), description=stamp("", prov)) for n in names]
            for start in range(0, len(defs), 500):
                client.upsert_taskdefs(defs[start:start + 500])
            flows = [workflow(f"{prefix}wf{i}", [used[(i * 5 + k) % len(used)] for k in range(5)])
                     for i in range(args.workflows)]
            for start in range(0, len(flows), 200):
                client.upsert_workflows(flows[start:start + 200])

            t = time.perf_counter()
            server_flows = client.list_workflows()
            fetched = time.perf_counter() - t
            t = time.perf_counter()
            usage = build_usage_index(server_flows)
            indexed = time.perf_counter() - t
            rows.append(("fetch all workflows (GET)", fetched, f"{len(server_flows)} workflow versions"))
            rows.append(("build usage index", indexed, f"{len(usage.uses)} task names used"))
            plan = make_plan([], client.list_taskdefs(), project=prefix)
            t = time.perf_counter()
            purge = plan_purge(plan, usage, orphaned=True)
            rows.append(("decide what may go (pure)", time.perf_counter() - t,
                         f"{len(purge.deletions)} deletable, {len(purge.skipped)} kept"))
            batch = purge.deletions[: args.orphans]
            purge.deletions = batch
            t = time.perf_counter()
            result = execute_purge(client, purge, state_dir=Path("/tmp/idflow-bench-state"))
            concurrent = time.perf_counter() - t
            rows.append((f"purge {len(batch)} orphans (8 at once, backup)", concurrent, f"{len(result.deleted)} deleted"))
            sequential_names = [n for n in names[args.taskdefs // 2:] if n not in set(result.deleted)][: args.orphans]
            t = time.perf_counter()
            for name in sequential_names:
                client.delete_taskdef(name)
            sequential = time.perf_counter() - t
            rows.append((f"{len(sequential_names)} deletes one at a time", sequential, "no usage check"))
            sample = [f"{prefix}naive{i}" for i in range(50)]
            client.upsert_taskdefs([dict(taskdef.build(n, {"timeout_seconds": 60}), description=stamp("", prov))
                                    for n in sample])
            t = time.perf_counter()
            for name in sample:  # a naive safe purge: re-check usage and re-read before each delete
                build_usage_index(client.list_workflows())
                client.get_taskdef(name)
                client.delete_taskdef(name)
            naive = (time.perf_counter() - t) / max(1, len(sample)) * len(batch)
            rows.append((f"naive safe purge of {len(batch)} (extrapolated)", naive,
                         f"measured on {len(sample)}: usage re-checked per delete"))
        finally:
            delete_prefixed(client, prefix)
    print(f"{args.workflows} workflows, {args.taskdefs} task definitions against {server_url()}")
    for label, wall, note in rows:
        print(f"{label:45} {wall:8.3f} s  {note}")
    print(f"usage check total: {rows[0][1] + rows[1][1]:.3f} s; purge speed-up vs sequential: "
          f"{sequential / concurrent:.1f}x, vs a naive safe purge: {naive / concurrent:.0f}x; "
          f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
