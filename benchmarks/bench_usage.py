"""Benchmark the usage index on a server-sized workflow set.

1,000 workflows x 3 versions, realistic nesting (forks, switches, do-while loops,
inline sub-workflows, a few dynamic tasks) over 2,000 task names; times
`build_usage_index` and 2,000 `verdict` lookups. Run:

    python benchmarks/bench_usage.py [--workflows N] [--versions N] [--top-level N] [--repeat N]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idflow.taskdefs.usage import build_usage_index, walk_tasks  # noqa: E402

TASK_NAMES = [f"task_{i:04d}" for i in range(2000)]
SYSTEM = ["HTTP", "INLINE", "JSON_JQ_TRANSFORM", "SET_VARIABLE", "WAIT"]


def _simple(rng: random.Random, ref: list[int]) -> dict[str, Any]:
    ref[0] += 1
    return {"name": rng.choice(TASK_NAMES), "taskReferenceName": f"r{ref[0]}", "type": "SIMPLE",
            "inputParameters": {"id": "${workflow.input.id}"}}


def _block(rng: random.Random, ref: list[int], depth: int, size: int) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for _ in range(size):
        roll = rng.random()
        ref[0] += 1
        name = f"n{ref[0]}"
        if depth >= 3 or roll < 0.55:
            tasks.append(_simple(rng, ref))
        elif roll < 0.65:
            tasks.append({"name": name, "taskReferenceName": name, "type": rng.choice(SYSTEM)})
        elif roll < 0.75:
            branches = [_block(rng, ref, depth + 1, rng.randint(1, 3)) for _ in range(rng.randint(2, 4))]
            tasks.append({"name": name, "taskReferenceName": name, "type": "FORK_JOIN", "forkTasks": branches})
            tasks.append({"name": f"{name}_join", "taskReferenceName": f"{name}_join", "type": "JOIN"})
        elif roll < 0.85:
            cases = {f"case_{c}": _block(rng, ref, depth + 1, rng.randint(1, 3)) for c in range(rng.randint(1, 4))}
            tasks.append({"name": name, "taskReferenceName": name, "type": "SWITCH", "evaluatorType": "value-param",
                          "expression": "kind", "decisionCases": cases,
                          "defaultCase": _block(rng, ref, depth + 1, 1)})
        elif roll < 0.93:
            tasks.append({"name": name, "taskReferenceName": name, "type": "DO_WHILE", "loopCondition": "false",
                          "loopOver": _block(rng, ref, depth + 1, rng.randint(1, 3))})
        elif roll < 0.99:
            inline = {"name": f"{name}_inline", "tasks": _block(rng, ref, depth + 1, rng.randint(1, 4))}
            tasks.append({"name": name, "taskReferenceName": name, "type": "SUB_WORKFLOW",
                          "subWorkflowParam": {"name": inline["name"], "workflowDefinition": inline}})
        else:
            tasks.append({"name": name, "taskReferenceName": name, "type": "DYNAMIC",
                          "dynamicTaskNameParam": "t", "inputParameters": {"t": "${workflow.input.t}"}})
    return tasks


def generate(workflows: int, versions: int, top_level: int = 10, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    defs = []
    for w in range(workflows):
        for v in range(1, versions + 1):
            ref = [0]
            defs.append({"name": f"flow_{w:04d}", "version": v, "schemaVersion": 2,
                         "tasks": _block(rng, ref, 0, rng.randint(max(1, top_level // 3), top_level))})
    return defs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--top-level", type=int, default=10,
                        help="most top-level tasks per definition (nested ones come on top)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    defs = generate(args.workflows, args.versions, args.top_level)
    nodes = sum(len(walk_tasks(d).tasks) for d in defs)
    lookups = random.Random(1).sample(TASK_NAMES + [f"gone_{i}" for i in range(2000)], 2000)

    builds, verdicts = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        index = build_usage_index(defs)
        builds.append(time.perf_counter() - start)
        start = time.perf_counter()
        results = [index.verdict(name) for name in lookups]
        verdicts.append(time.perf_counter() - start)

    uses = sum(len(v) for v in index.uses.values())
    build_s, verdict_s = statistics.median(builds), statistics.median(verdicts)
    print(f"workflow defs : {len(defs)} ({args.workflows} workflows x {args.versions} versions)")
    print(f"task nodes    : {nodes} ({nodes / len(defs):.0f} per definition)  uses indexed: {uses}"
          f"  names used: {len(index.uses)}  uncertain sites: {len(index.uncertain)}")
    print(f"build index   : median {build_s * 1000:.1f} ms, best {min(builds) * 1000:.1f} ms"
          f"  ({build_s / nodes * 1e6:.2f} us/task node, {build_s / len(defs) * 1e6:.1f} us/workflow def)")
    print(f"2000 verdicts : median {verdict_s * 1000:.2f} ms  ({verdict_s / len(lookups) * 1e9:.0f} ns/lookup)"
          f"  [{results.count('used')} used, {results.count('uncertain')} uncertain, {results.count('unused')} unused]")
    print(f"total         : {(build_s + verdict_s) * 1000:.1f} ms (target < 1000 ms)")


if __name__ == "__main__":
    main()
