"""Benchmark `tasks status` for 1,000 task types against the real server: time and requests.

Sets up 1,000 task definitions (and the same 1,000 task files), 10 workflows using 100 of them
each, a poll from a worker on every type (so the poll data has 1,000 entries), 200 finished
executions (150 completed, 50 failed: the search has something to page) and 40 queued tasks.
Then times `usecases.task_status` and counts its requests by path: batched endpoints answer
for every type at once, so the count stays a small constant, whatever the number of types.

    CONDUCTOR_SERVER_URL=http://127.0.0.1:8080/api python benchmarks/bench_status.py [--types N] [--repeat N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import delete_prefixed, make_project, server_url  # noqa: E402


def counting_transport(paths: Counter):
    import httpx

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request):
            paths[f"{request.method} {request.url.path}"] += 1
            return super().handle_request(request)

    return Counting()


def set_up(client, prefix: str, types: int) -> None:
    import httpx

    names = [f"{prefix}{i}" for i in range(types)]
    for start in range(0, types, 500):
        client.upsert_taskdefs([{"name": n, "retryCount": 0, "timeoutSeconds": 600, "responseTimeoutSeconds": 120,
                                 "ownerEmail": "bench@example.com"} for n in names[start:start + 500]])
    workflows = [{"name": f"{prefix}wf{w}", "version": 1, "schemaVersion": 2, "ownerEmail": "bench@example.com",
                  "tasks": [{"name": names[w * 100 + t], "taskReferenceName": f"t{t}", "type": "SIMPLE"}
                            for t in range(min(100, types - w * 100))]} for w in range(min(10, types // 100))]
    client.upsert_workflows(workflows)
    api = client.api_url
    with httpx.Client(timeout=30) as http:
        for name in names:  # one poll per type: the poll data lists every type
            http.get(f"{api}/tasks/poll/{name}", params={"workerid": "bench-worker"})
        for i in range(240):  # the first task of each run: 200 finished, 40 left queued
            client.start_workflow(workflows[i % len(workflows)]["name"], {})
        done = 0
        deadline = time.monotonic() + 120
        while done < 200 and time.monotonic() < deadline:
            for wf in workflows:
                task = http.get(f"{api}/tasks/poll/{wf['tasks'][0]['name']}", params={"workerid": "bench-worker"})
                if done >= 200 or not task.content:
                    continue
                body = task.json()
                http.post(f"{api}/tasks", json={"taskId": body["taskId"], "workerId": "bench-worker",
                                                "workflowInstanceId": body["workflowInstanceId"],
                                                "status": "FAILED" if done % 4 == 0 else "COMPLETED"})
                done += 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--types", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from idflow import usecases
    from idflow.conductor.client import ConductorClient
    from idflow.project.config import load_config
    from idflow.usecases import Session

    prefix = f"b{uuid.uuid4().hex[:6]}_"
    root = make_project(args.types, prefix)
    with ConductorClient(server_url()) as client:
        started = time.perf_counter()
        set_up(client, prefix, args.types)
        setup_s = time.perf_counter() - started
        try:
            config = load_config(str(root / "config" / "idflow.yml"))
            times, counts = [], []
            report = None
            for _ in range(args.repeat):
                paths: Counter = Counter()
                with Session(config, make_client=lambda c: ConductorClient(
                        c.api_url, transport=counting_transport(paths))) as session:
                    t0 = time.perf_counter()
                    report = usecases.task_status(session)
                    times.append(time.perf_counter() - t0)
                counts.append(paths)
            mine = [t for t in report.tasks if t.name.startswith(prefix)]
            print(json.dumps({
                "task_types": args.types, "rows_for_them": len(mine), "setup_s": round(setup_s, 1),
                "status_s": {"median": round(statistics.median(times), 3), "all": [round(t, 3) for t in times]},
                "requests": sum(counts[-1].values()), "by_path": dict(counts[-1]), "search": report.search,
                "served": sum(1 for t in mine if t.live_workers), "unserved": sum(1 for t in mine if t.attention
                                                                                  and "unserved" in t.attention),
                "failed_seen": sum(t.failed or 0 for t in mine), "completed_seen": sum(t.completed or 0 for t in mine),
            }, indent=2))
        finally:
            api = client.api_url
            import httpx
            with httpx.Client(timeout=30) as http:  # end the runs, so no queue is left behind
                for hit in http.get(f"{api}/workflow/search", params={"query": "status IN (RUNNING)", "size": 1000,
                                                                      "freeText": "*"}).json().get("results", []):
                    if str(hit.get("workflowType", "")).startswith(prefix):
                        client.terminate_workflow(hit["workflowId"], "benchmark done")
            delete_prefixed(client, prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
