"""Start-up time of the `idflow` command: each command in a fresh process, median of N runs.

    python benchmarks/bench_startup.py [--runs 15] [--no-server]

Another checkout is measured with PYTHONPATH=/that/checkout (the console script then imports it).

Rows: `python -c pass` (the floor), `idflow --help`, `tasks list --local` on 20 and 1,000 tasks
(table to a pipe, and --json), `tasks new NAME`, and, against the server, `tasks list --sync`
on 200 tasks that are uploaded and in sync, beside ID Flow's own way of doing that listing,
written naively in benchmarks/idflow_style_sync.py (import every task module, one GET through
the conductor SDK's MetadataClient, compare names). Each command runs twice untimed first (the
discovery cache and the OS page cache are warm, as for a user who runs it again).

The server is CONDUCTOR_SERVER_URL (default http://127.0.0.1:8080/api); the 200 definitions
are deleted afterwards. Prints the load average too: on a shared machine it moves the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._common import delete_prefixed, make_project, server_url  # noqa: E402

IDFLOW = Path(sys.executable).parent / "idflow"
# Bytecode is written (PYTHONDONTWRITEBYTECODE dropped): a user's install has its .pyc files, and
# recompiling every changed module at each start would add ~30 ms that users never pay.
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(("IDFLOW_", "CONDUCTOR_", "PREFECT_")) and k != "PYTHONDONTWRITEBYTECODE"}


def idflow(*args: str) -> list[str]:
    if IDFLOW.exists():  # the console script, as a user runs it
        return [str(IDFLOW), *args]
    return [sys.executable, "-P", "-c", "from idflow.cli.entry import run; run()", *args]


def median_seconds(command: list[str] | None, runs: int, cwd: Path | None = None, *,
                   make: "callable | None" = None) -> dict:
    """Median and fastest wall time of `command` (or of `make(i)`, a command per run), and the median
    CPU time (user + sys), which moves less than wall time with the load of a shared machine."""
    times, cpu = [], []
    for i in range(runs + 2):
        argv = make(i) if make else command
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
        if i >= 2:
            times.append(seconds)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "cpu_median_s": round(statistics.median(cpu), 3), "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sync-tasks", type=int, default=200)
    parser.add_argument("--no-server", action="store_true", help="skip the rows that need the server")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="idflow-bench-startup-"))
    load_before = os.getloadavg()
    rows: dict[str, dict] = {}

    def row(label: str, *a, **kw) -> None:
        rows[label] = median_seconds(*a, **kw)
        floor, this = rows.get("python -c pass", rows[label]), rows[label]
        print(f"{label:<55} median {this['median_s']:.3f} s ({this['median_s'] / floor['median_s']:.1f}x)  "
              f"min {this['min_s']:.3f} s  cpu {this['cpu_median_s']:.3f} s "
              f"({this['cpu_median_s'] / floor['cpu_median_s']:.1f}x)", flush=True)

    row("python -c pass", [sys.executable, "-c", "pass"], args.runs)
    row("idflow --help", idflow("--help"), args.runs, base)
    for count in (20, 1000):
        project = make_project(count, f"s{count}_", base / f"local{count}")
        row(f"tasks list --local, {count:,} tasks (table)", idflow("tasks", "list", "--local"), args.runs, project)
        row(f"tasks list --local --json, {count:,} tasks", idflow("tasks", "list", "--local", "--json"),
            args.runs, project)
    project20 = base / "local20"
    row("tasks new NAME (next to 20 tasks)", None, args.runs, project20,
        make=lambda i: idflow("tasks", "new", f"bench_new_{i}"))

    if not args.no_server:
        bench_sync(base, args.runs, args.sync_tasks, row)
    load_after = os.getloadavg()
    print(f"load average (1/5/15 min): before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}; {os.cpu_count()} cores")
    print(json.dumps({"rows": rows, "load_before": load_before, "load_after": load_after, "cores": os.cpu_count()}))
    return 0


def bench_sync(base: Path, runs: int, count: int, row) -> None:
    from idflow.conductor.client import ConductorClient

    prefix = f"bs{uuid.uuid4().hex[:6]}_"
    project = make_project(count, prefix, base / "sync")
    try:
        uploaded = subprocess.run(idflow("tasks", "upload", "--all", "--yes", "--json"), cwd=project, env=ENV,
                                  capture_output=True, text=True)
        if uploaded.returncode != 0:
            raise SystemExit(f"upload of {count} tasks failed:\n{uploaded.stderr[-2000:]}")
        row(f"tasks list --sync, {count} tasks in sync (table)", idflow("tasks", "list", "--sync"), runs, project)
        row(f"tasks list --sync --json, {count} tasks in sync", idflow("tasks", "list", "--sync", "--json"),
            runs, project)
        naive = [sys.executable, str(ROOT / "benchmarks" / "idflow_style_sync.py"), str(project / "idflow" / "tasks"),
                 server_url()]
        row(f"ID Flow's way (idflow_style_sync.py), {count} tasks", naive, runs, project)
    finally:
        with ConductorClient(server_url()) as client:
            delete_prefixed(client, prefix)


if __name__ == "__main__":
    sys.exit(main())
