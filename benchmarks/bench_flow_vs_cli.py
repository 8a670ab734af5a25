"""The same upload, plain CLI vs Prefect flow, against the real Conductor server.

    python benchmarks/bench_flow_vs_cli.py [--tasks 50] [--repeat 3] [--prefect-api-url URL]

For each of `--repeat` rounds: a first upload of N new task definitions, then a
no-op rerun, once with `idflow tasks upload --all` and once with the upload flow
(a fresh Python process each time, as a user or a worker would start it). The
flow runs against a Prefect server: the one at --prefect-api-url, else a
`prefect server start` on a free 127.0.0.1 port with PREFECT_HOME in a temp dir.
Every definition made here is deleted at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING",
         "PREFECT_SERVER_UI_ENABLED": "false"}
FLOW_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from flows.idflow_flows import upload
t1 = time.perf_counter()
doc = upload()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1, "created": len(doc["created"]),
                  "unchanged": len(doc["unchanged"])}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def prefect_server(api_url: str | None):
    if api_url:
        yield api_url
        return
    home = tempfile.mkdtemp(prefix="idflow-bench-prefect-")
    port = free_port()
    env = {**os.environ, **QUIET, "PREFECT_HOME": home}
    server = subprocess.Popen([PY, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while not healthy(url + "/health"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("prefect server did not start")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def make_project(root: Path, conductor: str, prefix: str, count: int) -> list[str]:
    (root / "config").mkdir(parents=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor}\nproject: {prefix}bench\n")
    names = [f"{prefix}{i:03d}" for i in range(count)]
    for name in names:
        folder = root / "idflow" / "tasks" / name
        folder.mkdir(parents=True)
        (folder / "__init__.py").touch()
        (folder / f"{name}.py").write_text(
            f"from idflow import worker_task\n\n\n@worker_task(task_definition_name={name!r}, retry_count=3, "
            f"timeout_seconds=600, response_timeout_seconds=60)\ndef {name}(task_input: dict) -> dict:\n"
            f"    \"\"\"Benchmark task {name}.\"\"\"\n    return {{}}\n")
    return names


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def delete_all(conductor: str, names: list[str]) -> None:
    from idflow.conductor.client import ConductorClient
    from idflow.base.errors import NotFound

    with ConductorClient(conductor) as client:
        for name in names:
            try:
                client.delete_taskdef(name)
            except NotFound:
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--conductor", default=os.environ.get("CONDUCTOR_SERVER_URL", "http://127.0.0.1:8080/api"))
    parser.add_argument("--prefect-api-url", default=None, help="use this Prefect server instead of starting one")
    args = parser.parse_args()
    conductor = args.conductor.rstrip("/") + ("" if args.conductor.rstrip("/").endswith("/api") else "/api")
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    work = Path(tempfile.mkdtemp(prefix="idflow-bench-"))
    names = make_project(work / "project", conductor, prefix, args.tasks)
    script = Path(PY).with_name("idflow")
    idflow = [str(script)] if script.exists() else [PY, "-m", "idflow.cli.app"]
    times: dict[str, list[float]] = {k: [] for k in ("cli_create", "cli_noop", "flow_create", "flow_noop",
                                                     "flow_create_in_run", "flow_noop_in_run", "flow_import",
                                                     "bridge_create", "bridge_noop")}
    helped = subprocess.run([*idflow, "tasks", "upload", "--help"], capture_output=True, text=True, timeout=60)
    bridge = "--prefect" in helped.stdout  # the CLI's --prefect flag, once wired
    try:
        with prefect_server(args.prefect_api_url) as api_url:
            env = {**os.environ, **QUIET, "PREFECT_API_URL": api_url}
            cwd = work / "project"
            for _ in range(args.repeat):
                delete_all(conductor, names)
                for key in ("cli_create", "cli_noop"):
                    elapsed, out = timed([*idflow, "tasks", "upload", "--all", "--json"], cwd, env)
                    doc = json.loads(out)
                    assert len(doc["created"]) == (args.tasks if key == "cli_create" else 0), doc
                    times[key].append(elapsed)
                delete_all(conductor, names)
                for key in ("flow_create", "flow_noop"):
                    elapsed, out = timed([PY, "-c", FLOW_SCRIPT], cwd, env)
                    doc = json.loads(out.strip().splitlines()[-1])
                    assert doc["created"] == (args.tasks if key == "flow_create" else 0), doc
                    times[key].append(elapsed)
                    times[key + "_in_run"].append(doc["run_s"])
                    times["flow_import"].append(doc["import_s"])
                if bridge:
                    delete_all(conductor, names)
                    for key in ("bridge_create", "bridge_noop"):
                        elapsed, out = timed([*idflow, "tasks", "upload", "--all", "--prefect", "--json"], cwd, env)
                        assert len(json.loads(out)["created"]) == (args.tasks if key == "bridge_create" else 0)
                        times[key].append(elapsed)
    finally:
        delete_all(conductor, names)
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"upload of {args.tasks} task definitions, median of {args.repeat} (wall time of a fresh process):")
    print(f"  {'':28} {'first upload':>13} {'no-op rerun':>12}")
    print(f"  {'idflow tasks upload --all':28} {med['cli_create']:12.2f}s {med['cli_noop']:11.2f}s")
    print(f"  {'upload flow (Prefect)':28} {med['flow_create']:12.2f}s {med['flow_noop']:11.2f}s")
    print(f"  {'  of which the flow run':28} {med['flow_create_in_run']:12.2f}s {med['flow_noop_in_run']:11.2f}s")
    print(f"  {'  of which import flows':28} {statistics.median(times['flow_import']):12.2f}s")
    if bridge:
        print(f"  {'idflow tasks upload --prefect':28} {med['bridge_create']:12.2f}s {med['bridge_noop']:11.2f}s")


if __name__ == "__main__":
    main()
