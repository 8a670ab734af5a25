"""The commands people run dozens of times a day, each timed beside its floor: whole processes, in turn.

    python benchmarks/bench_everyday.py [--runs 5] [--upload-sizes 1000 10000] [--rows 200 5000] [--no-server]

Every row runs two commands A and B alternately (A B A B ..., one untimed warm-up each), so a
machine whose speed drifts moves both alike, and prints the medians of wall and CPU time and the
median of the per-pair ratios A/B, with the target and whether it is met:

- no-op `tasks upload --all` and `tasks diff` at each upload size, against the floor: one process
  that does start-up and discovery (`idflow --json tasks list --local`), then one GET of all task
  definitions and parses it (target: within 1.3x);
- text against `--json` of `tasks list --sync` and `tasks list --remote` at each row count (1.25x);
- `idflow --help` and `idflow tasks --help` against `python -c pass` (3x), served from the help cache
  after the warm-up run kept them (idflow/cli/help_cache.py), and `tasks --help` with the cache off,
  which is what a first run after an install or upgrade costs (no target); `tasks list --local` on
  200 tasks against it (4x);
- `tasks list --sync` on 200 tasks against ID Flow's own way (benchmarks/idflow_style_sync.py):
  idflow at least 2x faster, i.e. ratio at most 0.5.

The projects are Git repositories with one commit (as a user's checkout is); each size is uploaded,
measured and deleted before the next, so a listing shows only its own rows. The server is
CONDUCTOR_SERVER_URL (default http://127.0.0.1:8080/api). Prints the load average before and
after: on a shared machine it moves every wall figure, the ratios much less.
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
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(("IDFLOW_", "CONDUCTOR_", "PREFECT_")) and k != "PYTHONDONTWRITEBYTECODE"}
# The floor of a command that reads the task files and the server: start-up + discovery, then one GET + parse.
FLOOR = """
import io, json, sys, urllib.request
from contextlib import redirect_stdout
from idflow.cli.app import main
with redirect_stdout(io.StringIO()):
    code = main(["--json", "tasks", "list", "--local"])
with urllib.request.urlopen(sys.argv[1] + "/metadata/taskdefs") as answer:
    body = json.loads(answer.read())
sys.exit(code if isinstance(body, list) else 1)
"""


def idflow(*args: str) -> list[str]:
    if IDFLOW.exists():  # the console script, as a user runs it
        return [str(IDFLOW), *args]
    return [sys.executable, "-P", "-c", "from idflow.cli.entry import run; run()", *args]


def once(argv: list[str], cwd: Path | None, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one run; output thrown away, as a pipe would take it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env={**ENV, **(env or {})}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 4):  # 4: drift, which a diff may report
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode()[-2000:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def pair(label: str, a: list[str], b: list[str], runs: int, cwd: Path | None, target: float | None, rows: list,
         env_a: dict[str, str] | None = None) -> None:
    """A and B in turn; medians, the median per-pair ratio A/B, and whether it is within `target` (None: a
    figure with no target of its own). `env_a`: variables set for A only."""
    once(a, cwd, env_a), once(b, cwd)  # warm-up: page cache, .pyc files, the discovery and help caches
    walls_a, walls_b, cpus_a, cpus_b = [], [], [], []
    for _ in range(runs):
        for argv, walls, cpus, env in ((a, walls_a, cpus_a, env_a), (b, walls_b, cpus_b, None)):
            wall, cpu = once(argv, cwd, env)
            walls.append(wall)
            cpus.append(cpu)
    wall_ratio = statistics.median(x / y for x, y in zip(walls_a, walls_b))
    cpu_ratio = statistics.median(x / y for x, y in zip(cpus_a, cpus_b))
    row = {"row": label, "a_wall_s": round(statistics.median(walls_a), 3), "b_wall_s": round(statistics.median(walls_b), 3),
           "a_cpu_s": round(statistics.median(cpus_a), 3), "b_cpu_s": round(statistics.median(cpus_b), 3),
           "wall_ratio": round(wall_ratio, 2), "cpu_ratio": round(cpu_ratio, 2), "target": target,
           "met": target is None or wall_ratio <= target, "load": round(os.getloadavg()[0], 2)}
    rows.append(row)
    verdict = "(no target)" if target is None else f"target <= {target}  {'met' if row['met'] else 'NOT met'}"
    print(f"{label:<58} A {row['a_wall_s']:7.3f} s  B {row['b_wall_s']:7.3f} s  A/B {wall_ratio:5.2f} "
          f"(cpu {cpu_ratio:5.2f})  {verdict}  load {row['load']}", flush=True)


def with_project(count: int, base: Path, work) -> None:
    """A Git project of `count` tasks uploaded to the server, `work(project)`, then its definitions deleted."""
    from idflow.conductor.client import ConductorClient

    prefix = f"be{uuid.uuid4().hex[:6]}_"
    project = make_project(count, prefix, base / f"p{count}")
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", "t"]):
        subprocess.run(["git", *command], cwd=project, check=True, capture_output=True)
    try:
        uploaded = subprocess.run(idflow("tasks", "upload", "--all", "--yes", "--json"), cwd=project, env=ENV,
                                  capture_output=True, text=True)
        if uploaded.returncode != 0:
            raise SystemExit(f"upload of {count} tasks failed:\n{uploaded.stderr[-2000:]}")
        work(project)
    finally:
        with ConductorClient(server_url()) as client:
            delete_prefixed(client, prefix)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--upload-sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--rows", type=int, nargs="*", default=[200, 5000])
    parser.add_argument("--no-server", action="store_true", help="only the rows that need no server")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="idflow-bench-everyday-"))
    load_before, rows = os.getloadavg(), []
    floor_cmd = [sys.executable, "-P", "-c", FLOOR, server_url()]
    nothing = [sys.executable, "-c", "pass"]
    runs = args.runs

    pair("idflow --help vs python -c pass", idflow("--help"), nothing, runs, base, 3.0, rows)
    pair("idflow tasks --help vs python -c pass", idflow("tasks", "--help"), nothing, runs, base, 3.0, rows)
    # what a first run after an install or upgrade costs: the help through typer, no kept text
    pair("idflow tasks --help, help cache off", idflow("tasks", "--help"), nothing, runs, base, None, rows,
         env_a={"IDFLOW_NO_HELP_CACHE": "1"})
    local = make_project(200, "local_", base / "local200")
    pair("tasks list --local, 200 tasks vs python -c pass", idflow("tasks", "list", "--local"), nothing, runs,
         local, 4.0, rows)
    if not args.no_server:
        for count in sorted(set(args.rows) | set(args.upload_sizes)):
            def work(project: Path, count: int = count) -> None:
                if count in args.upload_sizes:
                    pair(f"tasks upload --all, {count:,} no-op vs floor", idflow("tasks", "upload", "--all", "--yes"),
                         floor_cmd, runs, project, 1.3, rows)
                    pair(f"tasks diff, {count:,} in sync vs floor", idflow("tasks", "diff"), floor_cmd, runs, project,
                         1.3, rows)
                if count in args.rows:
                    for view in ("--sync", "--remote"):
                        pair(f"tasks list {view}, {count:,} rows: text vs --json", idflow("tasks", "list", view),
                             idflow("--json", "tasks", "list", view), runs, project, 1.25, rows)
                if count == 200:
                    naive = [sys.executable, str(ROOT / "benchmarks" / "idflow_style_sync.py"),
                             str(project / "idflow" / "tasks"), server_url()]
                    pair("tasks list --sync, 200: idflow vs ID Flow's own way", idflow("tasks", "list", "--sync"),
                         naive, runs, project, 0.5, rows)
            with_project(count, base, work)
    load_after = os.getloadavg()
    print(f"load average (1/5/15 min): before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}; {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(json.dumps({"rows": rows, "load_before": load_before, "load_after": load_after, "cores": os.cpu_count()}))
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
