"""Upload 1,000 task definitions against the real server: idflow's plan vs the naive way.

    python benchmarks/bench_upload.py [--count 1000]

Reports wall time and request counts for: first upload, no-op rerun, one change,
and the same work done naively (one request per task, re-reading everything per task).
Needs a running server (scripts/conductor-server.sh start); cleans up after itself.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import delete_prefixed, make_project, server_url, write_task  # noqa: E402
from idflow.conductor.client import ConductorClient  # noqa: E402
from idflow.project.config import load_config  # noqa: E402
from idflow.usecases import Session, discover, upload  # noqa: E402


def run_upload(label: str, rows: list) -> None:
    config = load_config()
    with ConductorClient(config.api_url) as client:
        start = time.perf_counter()
        outcome = upload(Session(config, lambda _c: client))
        wall = time.perf_counter() - start
        r = outcome.result
        rows.append((label, wall, client.stats.reads, client.stats.writes,
                     f"created {len(r.created)}, updated {len(r.updated)}, unchanged {len(r.unchanged)}"))


def naive(names: list[str], defs: dict, rows: list, label: str) -> None:
    """One GET of everything and one POST per task, as a simple script would do it."""
    with ConductorClient(server_url()) as client:
        start = time.perf_counter()
        for name in names:
            client.list_taskdefs()  # re-read everything to see what is there
            client.upsert_taskdefs([defs[name]])
        wall = time.perf_counter() - start
        rows.append((label, wall, client.stats.reads, client.stats.writes, f"{len(names)} written"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    prefix = f"bu{uuid.uuid4().hex[:6]}_"
    root = make_project(args.count, prefix)
    os.chdir(root)
    rows: list = []
    try:
        run_upload("idflow: first upload", rows)
        run_upload("idflow: no-op rerun", rows)
        write_task(root / "idflow" / "tasks", f"{prefix}7", retry=9)
        run_upload("idflow: one change", rows)
        config = load_config()
        discovery = discover(config)
        defs = {t.name: t.task_def for t in discovery.tasks}
        names = sorted(defs)[: min(200, len(defs))]
        naive(names, defs, rows, f"naive: {len(names)} tasks one by one")
    finally:
        with ConductorClient(server_url()) as client:
            delete_prefixed(client, prefix)
    print(f"{args.count} task definitions against {server_url()}")
    print(f"{'case':40} {'wall s':>8} {'GETs':>6} {'writes':>7}  result")
    for label, wall, reads, writes, note in rows:
        print(f"{label:40} {wall:8.3f} {reads:6d} {writes:7d}  {note}")
    naive_row = rows[-1]
    per_task = naive_row[1] / int(naive_row[0].split()[1])
    print(f"naive extrapolated to {args.count}: {per_task * args.count:.1f} s, {2 * args.count} requests")


if __name__ == "__main__":
    main()
