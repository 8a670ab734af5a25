"""`tasks import` of N server-only definitions and `tasks pull --all` of N edited ones, whole commands.

    CONDUCTOR_SERVER_URL=http://127.0.0.1:8080/api python benchmarks/bench_import_pull.py [--count 1000] [--runs 3]

Each run: N definitions created on the server (a fresh name prefix), a fresh Git project; then
`idflow tasks import NAME...` (writes N files, reads them back, stamps N definitions), every
definition's retryCount edited on the server, and `idflow tasks pull --all` (rewrites N decorator
keywords in place, restamps). Prints the median wall time of each, the floor it is measured against
(`idflow --json tasks list --remote`: start-up plus one GET of all definitions) and the ratio.

Then the same for N event handlers (`events import`, one `active` edit each, `events pull --all`) and N
workflows (`workflows import`, one `timeoutSeconds` edit each, `workflows pull --all`), and how much of
`tasks pull` is libcst: the rewrite of the N task files in process, libcst's parse alone beside it.
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


def json_kinds_run(count: int) -> dict[str, float]:
    """events import/pull and workflows import/pull of `count` each, whole commands."""
    from idflow.conductor.client import ConductorClient
    from idflow.engine.ledger import ledger_name

    prefix = f"b{uuid.uuid4().hex[:6]}_"
    root = Path(tempfile.mkdtemp(prefix="idflow-bench-json-"))
    (root / "config").mkdir()
    (root / "idflow" / "workflows").mkdir(parents=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {server_url()}\nproject: bench-{prefix}\n")
    handlers = [{"name": f"{prefix}h{i}", "event": f"conductor:{prefix}w{i % 50}:done", "active": True,
                 "actions": [{"action": "start_workflow", "start_workflow": {"name": f"{prefix}w{i % 50}",
                                                                            "input": {"id": "${workflowId}"}}}]}
                for i in range(count)]
    workflows = [{"name": f"{prefix}w{i}", "version": 1, "schemaVersion": 2, "timeoutSeconds": 60,
                  "tasks": [{"name": "shape", "taskReferenceName": "shape", "type": "INLINE",
                             "inputParameters": {"evaluatorType": "graaljs", "expression": "1"}}]}
                 for i in range(count)]
    figures: dict[str, float] = {}
    with ConductorClient(server_url()) as client:
        for h in handlers:
            client.create_event_handler(h)
        client.upsert_workflows(workflows)
        try:
            figures["events_import_s"] = timed(["--json", "events", "import", *(h["name"] for h in handlers)], root)
            for h in client.list_event_handlers():
                if h["name"].startswith(prefix):
                    client.update_event_handler({**h, "active": False})
            figures["events_pull_s"] = timed(["--json", "events", "pull", "--all"], root)
            names = [w["name"] for w in workflows]
            figures["workflows_import_s"] = timed(["--json", "workflows", "import", *names], root)
            client.upsert_workflows([{**w, "timeoutSeconds": 120} for w in workflows])
            figures["workflows_pull_s"] = timed(["--json", "workflows", "pull", "--all"], root)
        finally:
            for h in handlers:
                client.delete_event_handler(h["name"])
            for w in workflows:
                client.delete_workflow(w["name"], 1)
            for kind in ("events", "workflows"):  # the bench project's ledgers
                try:
                    client.delete_taskdef(ledger_name(f"bench-{prefix}", kind))
                except Exception:
                    pass
    return figures


def libcst_share(count: int) -> dict[str, float]:
    """The rewrite of `count` task files in process (what `tasks pull` does after its GET), and libcst's
    parse of the same sources alone."""
    import libcst

    from idflow.taskdefs.importing import render_task_file
    from idflow.taskdefs.rewrite import KeywordEdit, rewrite_keywords

    sources = [(f"t{i}", render_task_file({"name": f"t{i}", "retryCount": 2, "timeoutSeconds": 600,
                                           "responseTimeoutSeconds": 120})) for i in range(count)]
    started = time.perf_counter()
    for name, text in sources:
        rewrite_keywords(text, name, [KeywordEdit("retry_count", 9)])
    rewrite = time.perf_counter() - started
    started = time.perf_counter()
    for _, text in sources:
        libcst.parse_module(text)
    return {"rewrite_in_process_s": round(rewrite, 2), "libcst_parse_s": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tasks-only", action="store_true", help="Skip the event handler and workflow legs.")
    args = parser.parse_args()
    runs = [one_run(args.count) for _ in range(args.runs)]
    floor, imported, pulled = (statistics.median(r[i] for r in runs) for i in range(3))
    load = os.getloadavg()[0]
    doc = {"count": args.count, "runs": args.runs, "load_1min": round(load, 1), "cores": os.cpu_count(),
           "floor_list_remote_s": round(floor, 2), "import_s": round(imported, 2),
           "pull_all_s": round(pulled, 2), "import_vs_floor": round(imported / floor, 1),
           "pull_vs_floor": round(pulled / floor, 1)}
    share = libcst_share(args.count)
    doc.update(share, libcst_parse_share_of_pull=round(share["libcst_parse_s"] / pulled, 2))
    if not args.tasks_only:
        legs = [json_kinds_run(args.count) for _ in range(args.runs)]
        doc.update({k: round(statistics.median(leg[k] for leg in legs), 2) for k in legs[0]})
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
