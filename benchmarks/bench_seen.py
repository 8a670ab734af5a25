"""What `workflows purge --orphaned` and `events purge --orphaned` add: reading this clone's Git history of the
workflows dir (idflow.provenance.seen), on a synthetic repository (no server needed).

    python benchmarks/bench_seen.py [--files 200] [--commits 1000] [--runs 5]

Builds a repository whose workflows dir holds `--files` workflow files and one event_handlers.json, then makes
`--commits` commits, each changing one workflow file and, every tenth, the handlers file. Times `read_seen` for
workflow versions and for handlers (median of `--runs`), asking about 20 ledger commits.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idflow.events.ledger import handler_hashes_in, is_handlers_path  # noqa: E402
from idflow.provenance.seen import read_seen  # noqa: E402
from idflow.workflowdefs.pulling import is_workflow_path, ledger_hashes_in  # noqa: E402

ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@b", "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=ENV,
                          input=stdin).stdout.strip()


def workflow(i: int, revision: int) -> str:
    return json.dumps({"name": f"wf_{i}", "version": 1, "schemaVersion": 2, "description": f"rev {revision}",
                       "tasks": [{"name": "wait", "taskReferenceName": f"w{j}", "type": "WAIT"} for j in range(5)]},
                      indent=2)


def handlers(revision: int) -> str:
    return json.dumps([{"name": f"h_{i}", "event": f"conductor:wf_{i}:done", "active": True,
                        "actions": [{"action": "start_workflow", "start_workflow": {"name": f"wf_{i}",
                                                                                    "input": {"rev": revision}}}]}
                       for i in range(50)], indent=2)


def build(root: Path, files: int, commits: int) -> tuple[Path, list[str]]:
    folder = root / "idflow" / "workflows"
    folder.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for i in range(files):
        (folder / f"wf_{i}.json").write_text(workflow(i, 0))
    (folder / "event_handlers.json").write_text(handlers(0))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    shas = []
    for n in range(1, commits + 1):
        (folder / f"wf_{n % files}.json").write_text(workflow(n % files, n))
        if n % 10 == 0:
            (folder / "event_handlers.json").write_text(handlers(n))
        git(root, "commit", "-q", "-am", f"change {n}")
        if n % (commits // 20 or 1) == 0:
            shas.append(git(root, "rev-parse", "HEAD"))
    return folder, shas


def timed(runs: int, call) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, shas = build(Path(tmp), args.files, args.commits)
        seen = read_seen(folder, is_workflow_path, ledger_hashes_in, shas)
        workflows = timed(args.runs, lambda: read_seen(folder, is_workflow_path, ledger_hashes_in, shas))
        events = timed(args.runs, lambda: read_seen(folder, is_handlers_path, handler_hashes_in, shas))
    print(f"{args.files} workflow files, {args.commits} commits, load {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} cores")
    print(f"  workflow versions seen: {len(seen.ever)} (object, hash) pairs, {len(seen.ancestors)} ledger commits "
          "in history")
    print(f"  read_seen, workflows: {workflows * 1000:.0f} ms (median of {args.runs})")
    print(f"  read_seen, handlers:  {events * 1000:.0f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
