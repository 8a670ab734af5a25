"""Benchmark static discovery on large generated task trees.

Generates N task dirs (`<name>/<name>.py` with all nine TaskDef keywords and a
constant, `__init__.py`, `requirements.txt`) in a temp dir, then times a cold
`discover` (empty cache), warm runs (content-hash cache) and a run with no cache;
for the CLI size it also times `python -m idflow.cli.app tasks list --local --json`
(cold and warm cache) in a throw-away project. Target: 10,000 task dirs warm < 2 s.

    python benchmarks/bench_discovery.py [--sizes 1000 10000] [--repeat 3] [--cli-size 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from idflow.discovery import discover  # noqa: E402

CLI_ARGS = ["tasks", "list", "--local", "--json"]
TEMPLATE = '''"""Task {name}: generated for the discovery benchmark."""
from idflow import worker_task

TIMEOUT = 60 * 20


@worker_task(
    task_definition_name="{name}",
    retry_count={retries},
    timeout_seconds=TIMEOUT,
    timeout_policy="TIME_OUT_WF",
    retry_logic="FIXED",
    retry_delay_seconds=60,
    response_timeout_seconds=600,
    concurrent_exec_limit=10,
    rate_limit_frequency_in_seconds=60,
    rate_limit_per_frequency=100,
)
def {name}(text: str = "") -> dict:
    """Echo the input back.

    Input: {{"text": str}}. Output: {{"result": str}}.
    """
    return {{"result": text}}
'''


def generate(tasks_dir: Path, count: int) -> int:
    """Write `count` task dirs; returns the number of files written."""
    for i in range(count):
        name = f"task_{i:05d}"
        folder = tasks_dir / name
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / f"{name}.py").write_text(TEMPLATE.format(name=name, retries=i % 7))
        (folder / "requirements.txt").write_text("# pinned\nrequests>=2.31\n" if i % 3 == 0 else "")
    return count * 3


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_discover(base: Path, count: int, repeat: int) -> dict:
    tasks_dir, cache = base / f"tasks_{count}", base / f"cache_{count}"
    files = generate(tasks_dir, count)
    cold, found = timed(lambda: discover(tasks_dir, cache_dir=cache))
    assert len(found.tasks) == count and not found.errors, found.errors[:3]
    warm = [timed(lambda: discover(tasks_dir, cache_dir=cache))[0] for _ in range(repeat)]
    uncached = timed(lambda: discover(tasks_dir))[0]
    best = min(warm)
    return {"task_dirs": count, "files": files, "cold_s": round(cold, 3), "warm_s": round(best, 3),
            "warm_median_s": round(statistics.median(warm), 3), "no_cache_s": round(uncached, 3),
            "cold_files_per_s": int(files / cold), "warm_files_per_s": int(files / best)}


def bench_cli(base: Path, count: int) -> dict:
    """Time the CLI twice (cold cache, warm); falls back to the console script's entry point."""
    project = base / f"project_{count}"
    generate(project / "idflow" / "tasks", count)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDFLOW_", "CONDUCTOR_"))}
    env["PYTHONPATH"] = str(ROOT)
    args = CLI_ARGS
    commands = {"python -m idflow.cli.app": [sys.executable, "-m", "idflow.cli.app", *args],
                "idflow (console script entry point)": [sys.executable, "-c",
                                                        "from idflow.cli.entry import run; run()", *args]}
    report: dict = {"task_dirs": count}
    for label, command in commands.items():
        shutil.rmtree(project / ".idflow", ignore_errors=True)
        runs = []
        for _ in range(2):  # cold cache, then warm
            seconds, result = timed(lambda: subprocess.run(command, cwd=project, env=env, capture_output=True,
                                                           text=True))
            if result.returncode != 0:
                report[label] = {"error": (result.stderr or result.stdout).strip().splitlines()[-1:]}
                break
            runs.append(seconds)
        else:
            report[label] = {"tasks_listed": len(json.loads(result.stdout)["tasks"]),
                             "cold_s": round(runs[0], 3), "warm_s": round(runs[1], 3)}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli-size", type=int, default=1000, help="0 skips the CLI timing")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="idflow-bench-discovery-"))
    try:
        results = [bench_discover(base, n, args.repeat) for n in args.sizes]
        for r in results:
            print(f"{r['task_dirs']:>6} task dirs ({r['files']} files): cold {r['cold_s']:.3f}s "
                  f"({r['cold_files_per_s']} files/s), warm {r['warm_s']:.3f}s ({r['warm_files_per_s']} files/s), "
                  f"no cache {r['no_cache_s']:.3f}s")
        report = {"discover": results}
        if args.cli_size:
            report["cli"] = cli = bench_cli(base, args.cli_size)
            for label, r in cli.items():
                if label == "task_dirs":
                    continue
                if "error" in r:
                    print(f"{cli['task_dirs']:>6} task dirs via `{label} {' '.join(CLI_ARGS)}`: FAILED {r['error']}")
                else:
                    print(f"{cli['task_dirs']:>6} task dirs via `{label} {' '.join(CLI_ARGS)}`: "
                          f"cold {r['cold_s']:.3f}s, warm {r['warm_s']:.3f}s ({r['tasks_listed']} tasks)")
        print(json.dumps(report))
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
