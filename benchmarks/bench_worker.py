"""`idflow worker start` against conductor-python's own TaskHandler: tasks per second on a no-op task.

    python benchmarks/bench_worker.py [--tasks 1000] [--threads 1 8] [--runs 3] [--poll-ms 100]

Needs a running server (CONDUCTOR_SERVER_URL, default http://127.0.0.1:8080/api). It defines a
workflow whose FORK_JOIN_DYNAMIC runs a no-op task `--tasks` times, then, for each thread count and
run, alternately: defines a no-op task of its own (a new name each run, see `run_once`), starts one
workflow, starts a worker process (the SDK's TaskHandler with one `Worker`, or
`idflow worker start NAME --threads N`), waits until the workflow completes and stops the worker.
Tasks per second = tasks / (last task's end - first task's start), both read from the execution
the server recorded, so process start-up is not counted for either. Prints the medians, the per-pair
ratios, the overhead of idflow over the SDK (target: under 5% fewer tasks per second), the CPU
seconds each worker process used (start-up included: the server is the bottleneck here, so CPU is
what shows a worker's own cost) and the load.
Everything it defined is deleted afterwards.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._common import server_url  # noqa: E402
from idflow.base.errors import ConductorError  # noqa: E402

SDK_WORKER = """
import sys, time
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.worker.worker import Worker

def noop(task):
    return {}


if __name__ == "__main__":  # the SDK spawns its task runner, which imports this file again
    name, threads, poll_ms, url = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    worker = Worker(name, noop, poll_interval=poll_ms, thread_count=threads)
    handler = TaskHandler(workers=[worker], configuration=Configuration(server_api_url=url),
                          scan_for_annotated_workers=False, monitor_processes=False)
    handler.start_processes()
    try:
        while True:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        handler.stop_processes()
"""

TASK_FILE = '''from idflow import worker_task


@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=600, response_timeout_seconds=60)
def {name}(task_input: dict) -> dict:
    """A no-op for the worker benchmark."""
    return {{}}
'''


def definitions(client, name: str) -> None:
    client.upsert_workflows([{
        "name": name, "version": 1, "schemaVersion": 2, "ownerEmail": "bench@example.com",
        "tasks": [{"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN_DYNAMIC",
                   "inputParameters": {"tasks": "${workflow.input.tasks}", "inputs": "${workflow.input.inputs}"},
                   "dynamicForkTasksParam": "tasks", "dynamicForkTasksInputParamName": "inputs"},
                  {"name": "join", "taskReferenceName": "join", "type": "JOIN"}]}])


def group_processes(group: int) -> list[tuple[str, int]]:
    """(state, CPU ticks: user + system) of each process of the process group `group`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group:  # pgrp; utime and stime are fields 14 and 15 of the whole line
                found.append((fields[0], int(fields[11]) + int(fields[12])))
    return found


def group_members(group: int) -> list[tuple[str, int]]:
    """The live (not yet exited) processes of the process group `group`."""
    return [p for p in group_processes(group) if p[0] != "Z"]


def stop_group(group: int) -> None:
    """SIGINT to the worker's whole process group, then wait until none of it is left (SIGKILL after 30 s).
    That is not enough to keep a run's tasks from the previous worker: a poll it sent stays on the server after
    the process is gone, see `run_once`."""
    os.killpg(group, signal.SIGINT)
    deadline = time.monotonic() + 30
    while group_members(group):
        if time.monotonic() > deadline:
            os.killpg(group, signal.SIGKILL)
        time.sleep(0.05)


def stop_group_and_reap(worker: subprocess.Popen) -> None:
    try:
        stop_group(worker.pid)
    except ProcessLookupError:
        pass
    worker.wait()


def group_cpu(group: int) -> float:
    """CPU seconds (user + system) used so far by every process of the process group `group`."""
    return sum(ticks for _state, ticks in group_processes(group)) / os.sysconf("SC_CLK_TCK")


def define_task(client, project: Path, name: str) -> None:
    client.upsert_taskdefs([{"name": name, "retryCount": 0, "timeoutSeconds": 600, "responseTimeoutSeconds": 60,
                             "ownerEmail": "bench@example.com"}])
    (project / "idflow" / "tasks" / name).mkdir(parents=True)
    (project / "idflow" / "tasks" / name / f"{name}.py").write_text(TASK_FILE.format(name=name))


def run_once(client, workflow: str, name: str, count: int, worker_argv: list[str], cwd: Path,
             env: dict) -> tuple[float, float]:
    """Tasks per second, and the CPU seconds the worker process (and what it spawned) used, start-up included.

    `name` must be a task type no earlier run used. The worker is stopped as soon as the server shows every task
    COMPLETED, but its last requests may still be running on the server: the SDK sends each result to
    /tasks/update-v2, which completes the task and then polls one more task of the same type for the same worker
    (up to 100 ms, longer when the server is busy). A poll still running when the next run's workflow is started
    takes that run's first task, marks it IN_PROGRESS for a worker that is gone, and the task is lost until its
    responseTimeoutSeconds (then, with no retry, the workflow fails). Killing the process does not cancel it."""
    tasks = [{"name": name, "taskReferenceName": f"n{i}", "type": "SIMPLE"} for i in range(count)]
    workflow_id = client.start_workflow(workflow, {"tasks": tasks, "inputs": {f"n{i}": {} for i in range(count)}}, 1)
    started = time.time() * 1000
    worker = subprocess.Popen(worker_argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while True:  # until every no-op task is done (the JOIN after them is the server's own work)
            execution = client.get_execution(workflow_id)
            done = [t for t in execution.get("tasks", []) if t.get("taskType") == name and t.get("status") == "COMPLETED"]
            if len(done) == count or execution.get("status") != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"workflow {workflow_id} still running after 600 s")
            time.sleep(0.5)
    finally:
        cpu = group_cpu(worker.pid)  # before the stop: the SDK's own processes are not waited for one by one
        stop_group_and_reap(worker)
    if execution.get("status") == "RUNNING":  # only the JOIN left; it may complete while we ask
        try:
            client.terminate_workflow(workflow_id, "benchmark done")
        except ConductorError:
            pass
    if len(done) != count:
        stuck = [f"{t.get('referenceTaskName')} {t.get('status')}" + (f" (polled by {t.get('workerId')} "
                 f"{t['startTime'] - started:+.0f} ms after the worker was started)" if t.get("startTime") else "")
                 for t in execution.get("tasks", []) if t.get("taskType") == name and t.get("status") != "COMPLETED"]
        raise SystemExit(f"workflow {workflow_id} ended {execution.get('status')} with {len(done)} of {count} tasks "
                         f"done; not done: {'; '.join(stuck[:5])}")
    first = min(t["startTime"] for t in done)
    last = max(t["endTime"] for t in done)
    return len(done) / max((last - first) / 1000, 1e-3), cpu


def main() -> int:
    from idflow.conductor.client import ConductorClient

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--poll-ms", type=int, default=100)
    args = parser.parse_args()
    name = f"bw{uuid.uuid4().hex[:6]}_noop"  # the workflow; each run's task is f"{name}{run}"
    project = Path(tempfile.mkdtemp(prefix="idflow-bench-worker-"))
    (project / "idflow" / "tasks").mkdir(parents=True)
    (project / "sdk_worker.py").write_text(SDK_WORKER)
    (project / "config").mkdir()
    (project / "config" / "idflow.yml").write_text(f"conductor_server_url: {server_url()}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDFLOW_", "PREFECT_"))}
    env["CONDUCTOR_SERVER_URL"] = server_url()
    idflow = Path(sys.executable).parent / "idflow"
    load_before = os.getloadavg()
    results: dict[tuple[str, int], list[float]] = {}
    cpus: dict[tuple[str, int], list[float]] = {}
    task_names: list[str] = []
    with ConductorClient(server_url()) as client:
        definitions(client, name)
        try:
            for threads in args.threads:
                commands = {"sdk TaskHandler": [sys.executable, str(project / "sdk_worker.py"), "{task}", str(threads),
                                                str(args.poll_ms), server_url()],
                            "idflow worker start": [str(idflow), "worker", "start", "{task}", "--threads", str(threads),
                                                    "--poll-interval", str(args.poll_ms), "--grace", "0"]}
                for _ in range(args.runs):
                    for label, argv in commands.items():  # in turn: a drifting machine moves both alike
                        task = f"{name}{len(task_names)}"
                        task_names.append(task)
                        define_task(client, project, task)
                        rate, cpu = run_once(client, name, task, args.tasks, [a.replace("{task}", task) for a in argv],
                                             project, env)
                        shutil.rmtree(project / "idflow" / "tasks" / task)  # idflow discovers one task file each run
                        results.setdefault((label, threads), []).append(rate)
                        cpus.setdefault((label, threads), []).append(cpu)
                        print(f"{label:<22} threads {threads}: {rate:7.1f} tasks/s, worker CPU {cpu:6.2f} s "
                              f"(load {os.getloadavg()[0]:.2f})", flush=True)
        finally:
            for workflow_id in client._request("GET", f"/workflow/running/{name}", params={"version": 1}) or []:
                client.terminate_workflow(workflow_id, "benchmark cleanup")
            try:
                client.delete_workflow(name, 1)  # a dynamic fork left on the server makes every purge unsure
            finally:
                for task in task_names:
                    try:
                        client.delete_taskdef(task)
                    except ConductorError:
                        pass
    load_after = os.getloadavg()
    for threads in args.threads:
        sdk = statistics.median(results[("sdk TaskHandler", threads)])
        ours = statistics.median(results[("idflow worker start", threads)])
        overhead = (sdk - ours) / sdk * 100
        pairs = [o / s for s, o in zip(results[("sdk TaskHandler", threads)], results[("idflow worker start", threads)])]
        cpu_sdk = statistics.median(cpus[("sdk TaskHandler", threads)])
        cpu_ours = statistics.median(cpus[("idflow worker start", threads)])
        print(f"threads {threads}: sdk {sdk:.1f} tasks/s, idflow {ours:.1f} tasks/s, idflow/sdk {ours / sdk:.3f} "
              f"(per pair: {', '.join(f'{p:.3f}' for p in pairs)}), overhead {overhead:+.1f}% "
              f"(target < 5%: {'met' if overhead < 5 else 'NOT met'}); worker CPU sdk {cpu_sdk:.2f} s, "
              f"idflow {cpu_ours:.2f} s")
    print(f"{args.tasks} no-op tasks per workflow, poll {args.poll_ms} ms, {args.runs} run(s) each; load average "
          f"before {load_before[0]:.2f}, after {load_after[0]:.2f}; {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
