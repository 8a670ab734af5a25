"""Load: 5,000 definitions uploaded and purged, 2,000 workflows checked, via the real CLI.

    python benchmarks/bench_load.py [--defs 5000] [--workflows 2000]

Each step runs `idflow` as a separate process and reports its wall time and peak RSS
(the child's ru_maxrss). Needs a running server; cleans up after itself.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import delete_prefixed, make_project, server_url  # noqa: E402
from idflow.conductor.client import ConductorClient  # noqa: E402

IDFLOW = [sys.executable, "-P", "-c", "from idflow.cli.entry import run; run()"]


def step(label: str, args: list[str], root: Path, rows: list) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(IDFLOW + args, cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows.append((label, wall, max(rss, before) / 1024, done.returncode))
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--defs", type=int, default=5000)
    parser.add_argument("--workflows", type=int, default=2000)
    args = parser.parse_args()
    prefix = f"bl{uuid.uuid4().hex[:6]}_"
    root = make_project(args.defs, prefix)
    env_url = {k: v for k, v in os.environ.items()}
    rows: list = []
    try:
        up = step(f"upload --all ({args.defs} new)", ["tasks", "upload", "--all", "--json"], root, rows)
        step("upload --all (no-op rerun)", ["tasks", "upload", "--all", "--json"], root, rows)
        step("list --sync", ["tasks", "list", "--sync", "--json"], root, rows)
        used = [f"{prefix}{i}" for i in range(0, args.defs, 5)]
        flows = [{"name": f"{prefix}wf{i}", "version": 1, "schemaVersion": 2, "tasks": [
            {"name": used[i % len(used)], "taskReferenceName": "a", "type": "SIMPLE"},
            {"name": "fork", "taskReferenceName": "f", "type": "FORK_JOIN",
             "forkTasks": [[{"name": used[(i * 7) % len(used)], "taskReferenceName": "b", "type": "SIMPLE"}]]}]}
            for i in range(args.workflows)]
        with ConductorClient(server_url()) as client:
            for start in range(0, len(flows), 250):
                client.upsert_workflows(flows[start:start + 250])
        for i in range(args.defs):
            shutil.rmtree(root / "idflow" / "tasks" / f"{prefix}{i}")
        purge = step(f"purge --orphaned ({args.workflows} workflows checked)",
                     ["tasks", "purge", "--orphaned", "-y", "--json"], root, rows)
    finally:
        with ConductorClient(server_url()) as client:
            delete_prefixed(client, prefix)
        shutil.rmtree(root, ignore_errors=True)
    print(f"{args.defs} definitions, {args.workflows} workflows against {server_url()} "
          f"(CONDUCTOR_SERVER_URL={'set' if 'CONDUCTOR_SERVER_URL' in env_url else 'unset'})")
    print(f"{'step':48} {'wall s':>7} {'peak RSS MB':>12} {'exit':>5}")
    for label, wall, rss, code in rows:
        print(f"{label:48} {wall:7.2f} {rss:12.0f} {code:5d}")
    print(f"uploaded {len(up.get('created', []))}, requests {up.get('requests')}; "
          f"purged {len(purge.get('deleted', []))}, kept {len(purge.get('skipped', []))} (used by workflows)")


if __name__ == "__main__":
    main()
