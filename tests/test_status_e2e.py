"""`tasks status` against the real server and real workers (`idflow worker start`).

One project: `ok` (returns), `boom` (raises: every run fails), `queued` (no worker ever
runs it) and `stopped` (its worker is started, then stopped). Each test reads the status
both as JSON and as the table a user sees, and waits on the server (poll until a condition
holds, with a deadline), never on a fixed sleep.

Conductor 3.21 with its memory store (how CI runs the old line) indexes no execution: there
the in progress, completed, failed and timing columns must be null in JSON and `n/a` in the
table, never 0, and a failing task cannot be told (README: which columns need which server).
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.clihelp import PROJECT_ENV, run_cli
from tests.test_worker import WorkerProcess, wait_until
from tests.test_worker_contract_e2e import _cleanup, _cli

pytestmark = pytest.mark.server
WORKER_TASK = "from idflow import worker_task\n\n\n@worker_task(task_definition_name={name!r}, retry_count=0, " \
              "timeout_seconds=60, response_timeout_seconds=30)\ndef {func}(task_input) -> dict:\n    {body}\n"
BODIES = {"ok": "return {'ok': True}", "boom": "raise RuntimeError('injected failure')",
          "queued": "return {}", "stopped": "return {}"}


def workflow(name: str, task: str) -> dict:
    return {"name": name, "version": 1, "schemaVersion": 2, "timeoutSeconds": 120, "timeoutPolicy": "TIME_OUT_WF",
            "tasks": [{"name": task, "taskReferenceName": "t", "type": "SIMPLE"}]}


class Scene:
    def __init__(self, root: Path, prefix: str, conductor_url: str) -> None:
        self.root, self.prefix, self.url = root, prefix, conductor_url
        self.started = []

    def name(self, key: str) -> str:
        return self.prefix + key

    started: list[str]

    def start(self, key: str, times: int = 1) -> list[str]:
        from idflow.conductor.client import ConductorClient

        with ConductorClient(self.url) as client:
            ids = [client.start_workflow(self.name(key) + "_wf", {}) for _ in range(times)]
        self.started += ids
        return ids

    def end_runs(self) -> None:
        """Terminate what is still running: no queue is left on the shared server."""
        from idflow.conductor.client import ConductorClient
        from idflow.base.errors import ConductorError

        with ConductorClient(self.url) as client:
            for workflow_id in self.started:
                try:
                    client.terminate_workflow(workflow_id, "test done")
                except ConductorError:
                    pass  # it had ended (409)

    def finished(self, ids: list[str]) -> bool:
        from idflow.conductor.client import ConductorClient

        with ConductorClient(self.url) as client:
            return all(client.get_execution(i)["status"] != "RUNNING" for i in ids)

    def status(self, *args: str) -> dict:
        done = _cli("tasks", "status", *[self.name(k) for k in BODIES], "--json", *args)
        assert done.code == 0, done.err
        doc = json.loads(done.out)
        self.indexed = doc["search"] == "indexed"
        return {t["name"][len(self.prefix):]: t for t in doc["tasks"]}

    indexed = True

    def table_row(self, key: str, *args: str) -> list[str]:
        """The table's row of one task, split into its cells (two or more spaces apart)."""
        import re

        done = _cli("tasks", "status", self.name(key), *args)
        assert done.code == 0, done.err
        line = next(l for l in done.out.splitlines() if l.strip().startswith(self.name(key)))
        return re.split(r"\s{2,}", line.strip())


@pytest.fixture(scope="module")
def scene(conductor_url: str, tmp_path_factory) -> Iterator[Scene]:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    root = tmp_path_factory.mktemp("status") / "project"
    tasks_dir, workflows_dir = root / "idflow" / "tasks", root / "idflow" / "workflows"
    for folder in (tasks_dir, workflows_dir, root / "config"):
        folder.mkdir(parents=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor_url}\nproject: {prefix}status\n")
    for key, body in BODIES.items():
        name = prefix + key
        (tasks_dir / name).mkdir()
        (tasks_dir / name / "__init__.py").touch()
        (tasks_dir / name / f"{name}.py").write_text(WORKER_TASK.format(name=name, func=name, body=body))
        (workflows_dir / f"{name}.json").write_text(json.dumps(workflow(name + "_wf", name)))
    with pytest.MonkeyPatch.context() as mp:
        for env in PROJECT_ENV:
            mp.delenv(env, raising=False)
        mp.chdir(root)
        try:
            for command in (("tasks", "upload", "--all", "--json"), ("workflows", "upload", "--all", "--json")):
                done = _cli(*command)
                assert done.code == 0, (command, done.out, done.err)
            scene = Scene(root, prefix, conductor_url)
            yield scene
            scene.end_runs()
        finally:
            _cleanup(conductor_url, prefix)


@pytest.fixture(scope="module")
def worker(scene: Scene) -> Iterator[WorkerProcess]:
    """One worker for `ok` and `boom`, with three runs of each finished."""
    with WorkerProcess(scene.root, scene.name("ok"), scene.name("boom")) as process:
        process.wait_for("polling", timeout=90)
        runs = scene.start("ok", 3) + scene.start("boom", 2)
        assert wait_until(lambda: scene.finished(runs), timeout=120), process.err[-3000:]
        yield process
        process.stop()


NOT_GIVEN = [None] * 6
EXECUTION_KEYS = ("in_progress", "completed", "failed", "failure_rate", "p50_ms", "p95_ms")


def counted(scene: Scene, key: str, field: str, value: int) -> dict:
    """The rows once `field` of `key` reaches `value` (at once where the server indexes nothing)."""
    rows = wait_until(lambda: (lambda r: r if not scene.indexed or r[key][field] == value else None)(scene.status()),
                      timeout=60)
    assert rows, scene.status()
    return rows


def test_a_task_with_a_polling_worker_is_served_with_its_counts_and_timings(scene, worker):
    ok = counted(scene, "ok", "completed", 3)["ok"]
    assert ok["live_workers"] >= 1 and ok["last_poll_age"] is not None and ok["last_poll_age"] < 60
    assert ok["queue"] == 0 and ok["attention"] == []
    assert ok["sync"] == "in sync" and ok["used"] is True and ok["local"] and ok["remote"]
    cells = scene.table_row("ok")
    assert cells[1:4] == ["in sync", "yes", "0"] and cells[4].startswith(f"{ok['live_workers']} live")
    assert cells[5].endswith("s ago")
    if not scene.indexed:
        assert [ok[k] for k in EXECUTION_KEYS] == NOT_GIVEN and cells[6:12] == ["n/a"] * 6
        return
    assert (ok["in_progress"], ok["completed"], ok["failed"], ok["failure_rate"]) == (0, 3, 0, 0.0)
    assert ok["p50_ms"] is not None and ok["p95_ms"] >= ok["p50_ms"]
    assert cells[6:10] == ["0", "3", "0", "0%"] and cells[10].endswith(("ms", " s"))


def test_failures_raised_by_a_task_count_and_make_it_failing(scene, worker):
    boom = counted(scene, "boom", "failed", 2)["boom"]
    if not scene.indexed:  # the failures happened, but this server cannot tell: n/a, and no false alarm
        assert [boom[k] for k in EXECUTION_KEYS] == NOT_GIVEN and boom["attention"] == []
        assert scene.table_row("boom")[7:10] == ["n/a"] * 3
        assert _cli("tasks", "status", scene.name("boom"), "--fail-on", "failing").code == 0
        return
    assert (boom["completed"], boom["failed"], boom["failure_rate"], boom["attention"]) == (0, 2, 1.0, ["failing"])
    cells = scene.table_row("boom")
    assert cells[7:10] == ["0", "2", "100%"] and cells[-1] == "failing"
    assert _cli("tasks", "status", scene.name("boom"), "--fail-on", "failing").code == 4
    assert _cli("tasks", "status", scene.name("boom"), "--fail-on", "unserved").code == 0
    assert _cli("tasks", "status", scene.name("boom"), "--failing-above", "100%", "--fail-on", "failing").code == 0


def test_a_queue_built_up_while_no_worker_runs_is_unserved(scene, capsys):
    runs = scene.start("queued", 3)
    rows = wait_until(lambda: (lambda r: r if r["queued"]["queue"] == 3 else None)(scene.status()), timeout=60)
    assert rows, (runs, scene.status())
    queued = rows["queued"]
    assert queued["pollers"] == [] and queued["live_workers"] == 0 and queued["last_poll_age"] is None
    assert queued["attention"] == ["unserved"] and queued["in_progress"] == (0 if scene.indexed else None)
    cells = scene.table_row("queued")
    assert cells[3:7] == ["3", "0", "never", "0" if scene.indexed else "n/a"] and cells[-1] == "unserved"
    done = run_cli(capsys, "tasks", "status", scene.name("queued"), "--fail-on", "unserved,failing", "--json")
    assert done.code == 4 and done.json["attention"] == ["unserved"]


def test_doctor_says_how_many_of_the_projects_tasks_are_served_and_unserved(scene, worker):
    if not scene.status()["queued"]["queue"]:  # run alone: build the queue the test before built
        scene.start("queued")
        assert wait_until(lambda: scene.status()["queued"]["queue"], timeout=60)
    done = _cli("doctor", "--json")
    [check] = [c for c in json.loads(done.out)["checks"] if c["name"] == "workers"]
    # ok and boom have a worker; queued has work waiting (the test before) and none; stopped is idle.
    assert check["ok"] and check["detail"].startswith("2 of 4 local task(s) have a polling worker; 1 unserved")
    assert scene.name("queued") in check["fix"]


def test_a_task_whose_worker_stopped_is_unserved_after_the_threshold(scene):
    with WorkerProcess(scene.root, scene.name("stopped")) as process:
        process.wait_for("polling", timeout=90)
        [first] = scene.start("stopped")
        assert wait_until(lambda: scene.finished([first]), timeout=60), process.err[-3000:]
        served = scene.status("--unserved-after", "30s")["stopped"]
        assert served["live_workers"] >= 1 and served["attention"] == []
        assert process.stop()[0] == 0
    scene.start("stopped")  # work arrives after the worker is gone
    rows = wait_until(lambda: (lambda r: r if r["stopped"]["attention"] else None)(
        scene.status("--unserved-after", "2s")), timeout=60)
    assert rows, scene.status("--unserved-after", "2s")
    stopped = rows["stopped"]
    assert stopped["attention"] == ["unserved"] and stopped["queue"] == 1 and stopped["live_workers"] == 0
    assert stopped["last_poll_age"] > 2 and len(stopped["pollers"]) >= 1
    cells = scene.table_row("stopped", "--unserved-after", "2s")
    assert cells[4] == f"0 live / {len(stopped['pollers'])} seen" and cells[-1] == "unserved"
    # With a long threshold the same worker still counts as live: the threshold is what decides.
    assert scene.status("--unserved-after", "1h")["stopped"]["attention"] == []


def test_watch_redraws_in_place_until_ctrl_c(scene, worker, monkeypatch):
    """--watch: rich Live redraws the table each interval; Ctrl-C ends it without a traceback."""
    import io
    import time

    import typer
    from rich.console import Console

    from idflow.cli.commands.tasks_status import _watch
    from idflow.cli.state import CliState
    from idflow.monitoring.report import Thresholds

    screen = io.StringIO()
    cli = CliState()
    cli._out = Console(file=screen, force_terminal=True, width=220, color_system=None)
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        if len(rounds) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", sleep)
    with pytest.raises(typer.Exit) as stopped:
        _watch(cli, [scene.name("ok")], Thresholds(), 3.0)
    assert stopped.value.exit_code == 0 and rounds == [3.0, 3.0]
    shown = screen.getvalue()
    assert shown.count("Task status (window 1h") >= 2 and shown.count("every 3s; Ctrl-C stops") >= 2
    assert "\x1b[" in shown and scene.name("ok") in shown  # cursor movement: redrawn in place, not appended


@pytest.mark.parametrize("argv", [["--watch", "--json"], ["--since", "soon"], ["--fail-on", "slow"],
                                  ["--failing-above", "200%"], ["--watch", "--interval", "0s"]])
def test_bad_options_are_usage_errors(scene, argv):
    assert _cli("tasks", "status", *argv).code == 2
