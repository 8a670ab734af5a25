"""`tasks import` of N server-only definitions and `tasks pull --all` of N edited ones, whole commands.

    CONDUCTOR_SERVER_URL=http://127.0.0.1:8080/api python benchmarks/bench_import_pull.py [--count 1000] [--runs 3]

Each run: N definitions created on the server (a fresh name prefix), a fresh Git project; then
`idflow tasks import NAME...` (writes N files, reads them back, stamps N definitions), every
definition's retryCount edited on the server, and `idflow tasks pull --all` (rewrites N decorator
keywords in place, restamps). Prints the median wall time of each, the floor it is measured against
(`idflow --json tasks list --remote`: start-up plus one GET of all definitions) and the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import server_url  # noqa: E402

IDFLOW = [str(Path(sys.executable).with_name("idflow"))]  # the installed command, as a user runs it


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(IDFLOW + argv, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "CONDUCTOR_SERVER_URL": ""})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 4):
        raise SystemExit(f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr[-400:]}")
    return elapsed


def one_run(count: int) -> tuple[float, float, float]:
    from idflow.conductor.client import ConductorClient

    prefix = f"b{uuid.uuid4().hex[:6]}_"
    names = [f"{prefix}{i}" for i in range(count)]
    root = Path(tempfile.mkdtemp(prefix="idflow-bench-import-"))
    (root / "config").mkdir()
    (root / "idflow" / "tasks").mkdir(parents=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {server_url()}\nproject: bench-{prefix}\n")
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=root, check=True)
    with ConductorClient(server_url()) as client:
        client.upsert_taskdefs([{"name": n, "retryCount": 2, "timeoutSeconds": 600, "responseTimeoutSeconds": 120,
                                 "retryLogic": "EXPONENTIAL_BACKOFF", "description": "made by hand"} for n in names])
        floor = timed(["--json", "tasks", "list", "--remote"], root)
        imported = timed(["--json", "tasks", "import", *names], root)
        subprocess.run([*git, "add", "-A"], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "imported"], cwd=root, check=True)
        edited = [{**d, "retryCount": 9} for d in client.list_taskdefs() if d.get("name") in set(names)]
        client.upsert_taskdefs(edited)
        pulled = timed(["--json", "tasks", "pull", "--all"], root)
        for name in names:
            client.delete_taskdef(name)
    return floor, imported, pulled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.count) for _ in range(args.runs)]
    floor, imported, pulled = (statistics.median(r[i] for r in runs) for i in range(3))
    load = os.getloadavg()[0]
    print(json.dumps({"count": args.count, "runs": args.runs, "load_1min": round(load, 1), "cores": os.cpu_count(),
                      "floor_list_remote_s": round(floor, 2), "import_s": round(imported, 2),
                      "pull_all_s": round(pulled, 2), "import_vs_floor": round(imported / floor, 1),
                      "pull_vs_floor": round(pulled / floor, 1)}, indent=2))


if __name__ == "__main__":
    main()
