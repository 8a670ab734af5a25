"""What a task function returns, end to end: a real worker, a real server, `workflow run --wait --json`.

Each output either becomes JSON by the documented rule (idflow/worker/output.py) or ends the
task FAILED at once (not IN_PROGRESS until a timeout) with a reason naming the key. A generator
function is refused when the worker starts, and by discovery before any upload.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.clihelp import run_cli
from tests.test_worker import WorkerProcess, flat
from tests.test_worker_contract_e2e import _cleanup, _cli, workflow

pytestmark = pytest.mark.server
HEADER = ("from idflow import worker_task\nimport asyncio, datetime, decimal\n\n\nclass Thing:\n    pass\n\n\n")


@dataclass(frozen=True)
class Case:
    key: str
    body: str                      # the function body (4-space indented lines)
    output: dict | None = None     # COMPLETED with this output; None: FAILED
    reason: tuple[str, ...] = ()   # fragments of the FAILED reason
    is_async: bool = False


CASES = [
    Case("nan_nested", "return {'a': {'b': [1, float('nan')]}}", reason=("a.b[1]", "nan", "not a JSON number")),
    Case("inf_top", "return {'x': float('-inf')}", reason=("'x'", "-inf")),
    Case("nan_scalar", "return float('nan')", reason=("'result'", "nan")),
    Case("nan_async", "await asyncio.sleep(0)\n    return {'late': float('nan')}", reason=("'late'",), is_async=True),
    Case("datetime", "return {'at': datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), "
                     "'day': datetime.date(2024, 1, 2), 'naive': datetime.datetime(2024, 1, 2, 3, 4)}",
         {"at": "2024-01-02T03:04:05+00:00", "day": "2024-01-02", "naive": "2024-01-02T03:04:00"}),
    Case("set_sorted", "return {'s': {3, 1, 2}, 'f': frozenset({'b', 'a'}), 'in': [{'z', 'y'}]}",
         {"s": [1, 2, 3], "f": ["a", "b"], "in": [["y", "z"]]}),
    Case("set_mixed", "return {'s': {1, 'a'}}", reason=("'s'", "cannot be sorted")),
    Case("bytes", "return {'raw': b'abc'}", reason=("'raw'", "bytes", "decode")),
    Case("bytearray", "return {'deep': [{'raw': bytearray(b'x')}]}", reason=("deep[0].raw", "bytearray")),
    Case("custom", "return {'thing': Thing()}", reason=("'thing'", "Thing", "not a JSON value")),
    Case("decimal", "return {'price': decimal.Decimal('1.10')}", reason=("'price'", "Decimal")),
    Case("generator_value", "return (i for i in range(3))", reason=("'result'", "generator")),
    Case("int_keys", "return {1: 'one', 'two': {2: True}}", {"1": "one", "two": {"2": True}}),
    Case("too_large", "return {'blob': 'x' * (11 * 2 ** 20)}", reason=("MiB", "over the 10 MiB")),
]


def source(name: str, case: Case) -> str:
    prefix = "async " if case.is_async else ""
    return (HEADER + f"@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=120, "
            f"response_timeout_seconds=60)\n{prefix}def {name}(task_input):\n    {case.body}\n")


@dataclass
class Running:
    root: Path
    prefix: str
    worker: WorkerProcess


@pytest.fixture(scope="module")
def running(conductor_url: str, tmp_path_factory) -> Iterator[Running]:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    root = tmp_path_factory.mktemp("outputs") / "project"
    tasks_dir, workflows_dir = root / "idflow" / "tasks", root / "idflow" / "workflows"
    for folder in (tasks_dir, workflows_dir, root / "config"):
        folder.mkdir(parents=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor_url}\nproject: {prefix}out\n")
    for case in CASES:
        name = prefix + case.key
        (tasks_dir / name).mkdir()
        (tasks_dir / name / f"{name}.py").write_text(source(name, case))
        (workflows_dir / f"{name}.json").write_text(json.dumps(workflow(name + "_wf", name, [])))
    with pytest.MonkeyPatch.context() as mp:
        for env in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "IDFLOW_WORKFLOWS_DIR", "IDFLOW_STATE_DIR",
                    "CONDUCTOR_SERVER_URL", "CONDUCTOR_API_KEY", "CONDUCTOR_AUTH_KEY", "CONDUCTOR_AUTH_SECRET"):
            mp.delenv(env, raising=False)
        mp.chdir(root)
        try:
            for command in (("tasks", "upload", "--all", "--json"), ("workflows", "upload", "--all", "--json")):
                done = _cli(*command)
                assert done.code == 0, (command, done.out, done.err)
            with WorkerProcess(root, "--all") as worker:
                worker.wait_for("polling", timeout=60)
                yield Running(root, prefix, worker)
                code, _ = worker.stop()
                assert code == 0, worker.err[-3000:]
        finally:
            _cleanup(conductor_url, prefix)


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_each_output_is_json_by_the_rule_or_fails_the_task_at_once(running, case, capsys):
    done = run_cli(capsys, "workflow", "run", running.prefix + case.key + "_wf", "--wait", "--timeout", "60", "--json")
    doc = done.json
    assert not doc.get("timed_out"), (doc, running.worker.err[-3000:])  # never left IN_PROGRESS
    if case.output is not None:
        assert (done.code, doc["status"], doc["output"]) == (0, "COMPLETED", case.output), running.worker.err[-3000:]
        return
    [failed] = doc["failedTasks"]
    assert done.code == 1 and failed["status"] == "FAILED", doc
    reason = failed["reasonForIncompletion"]
    assert all(fragment in reason for fragment in case.reason), reason
    assert len(reason) < 600


def test_the_worker_keeps_polling_after_refused_outputs(running, capsys):
    """A refused or oversized output never stops the worker loop: a later good task still completes."""
    for case in ("too_large", "datetime"):
        done = run_cli(capsys, "workflow", "run", running.prefix + case + "_wf", "--wait", "--timeout", "60", "--json")
        assert done.json["status"] == ("FAILED" if case == "too_large" else "COMPLETED")
    assert running.worker.proc.poll() is None


GENERATORS = {
    "generator": "def {name}(task_input):\n    yield {{'a': 1}}\n",
    "yield_from": "def {name}(task_input):\n    yield from [1, 2]\n",
    "async_generator": "async def {name}(task_input):\n    yield {{'a': 1}}\n",
}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_a_generator_task_is_refused_by_discovery_and_by_worker_start(kind, tmp_path, monkeypatch, capsys,
                                                                    conductor_url):
    name = f"t{uuid.uuid4().hex[:8]}_{kind}"
    folder = tmp_path / "idflow" / "tasks" / name
    folder.mkdir(parents=True)
    (folder / f"{name}.py").write_text("from idflow import worker_task\n\n\n"
                                       f"@worker_task(task_definition_name={name!r})\n"
                                       + GENERATORS[kind].format(name=name))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor_url}\nproject: gen\n")
    for env in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.chdir(tmp_path)
    upload = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert upload.code == 1 and "it uses yield" in json.dumps(upload.json), upload.out
    with WorkerProcess(tmp_path, name) as worker:
        code = worker.proc.wait(60)
    assert code == 1 and "it uses yield" in flat(worker.err) and "no worker was started" in flat(worker.err)
    from idflow.conductor.client import ConductorClient

    with ConductorClient(conductor_url) as client:  # nothing was written
        assert name not in {d["name"] for d in client.list_taskdefs()}
