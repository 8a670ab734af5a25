"""Shared helpers for the benchmarks: a generated project and a timer."""
from __future__ import annotations

import os
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def server_url() -> str:
    return os.environ.get("CONDUCTOR_SERVER_URL", "http://127.0.0.1:8080/api")


def make_project(count: int, prefix: str, root: Path | None = None, retry: int = 3) -> Path:
    """A project dir with `count` task dirs named `<prefix><i>` and a config pointing at the server."""
    root = root or Path(tempfile.mkdtemp(prefix="idflow-bench-"))
    tasks = root / "idflow" / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {server_url()}\nproject: bench-{prefix}\n")
    for i in range(count):
        write_task(tasks, f"{prefix}{i}", retry)
    return root


def write_task(tasks: Path, name: str, retry: int) -> None:
    folder = tasks / name
    folder.mkdir(exist_ok=True)
    (folder / "__init__.py").touch()
    (folder / f"{name}.py").write_text(
        "from idflow import worker_task\n\n\n"
        f"@worker_task(task_definition_name={name!r}, retry_count={retry}, timeout_seconds=600,\n"
        "             response_timeout_seconds=120, retry_logic='EXPONENTIAL_BACKOFF', rate_limit_per_frequency=10,\n"
        "             rate_limit_frequency_in_seconds=60, concurrent_exec_limit=5)\n"
        f"def {name}(task_input: dict) -> dict:\n    \"\"\"Benchmark task.\"\"\"\n    return {{}}\n")


@contextmanager
def timed(label: str, results: dict):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def delete_prefixed(client, prefix: str) -> None:
    """Remove every workflow and task definition the benchmark made."""
    for wf in client.list_workflows():
        if wf["name"].startswith(prefix):
            client.delete_workflow(wf["name"], wf["version"])
    for d in client.list_taskdefs():
        if d["name"].startswith(prefix):
            client.delete_taskdef(d["name"])
