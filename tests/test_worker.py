"""`idflow worker start`: requirement check, imports, and a clean stop against the real server."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from idflow.worker.loading import check_requirements
from tests.clihelp import run_cli

# -P: the project dir (cwd) holds an `idflow/` folder that must not shadow the installed package.
LAUNCH = ("import sys; "
          "from idflow.cli.app import main; sys.exit(main())")


class WorkerProcess:
    """`idflow worker start ARGS` in a subprocess (cwd = the project), its stderr collected as it comes."""

    def __init__(self, root: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-P", "-c", LAUNCH, "worker", "start", *args], cwd=root,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.out = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def err(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.err:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._reader.join(2)
                raise AssertionError(f"worker never said {text!r} (exit {self.proc.poll()}):\n{self.err}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[int, float]:
        """Send `sig`; (exit code, seconds until it exited)."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        elapsed = time.monotonic() - started
        self.out = self.proc.stdout.read()
        self._reader.join(2)
        return code, elapsed

    def __enter__(self) -> "WorkerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def flat(text: str) -> str:
    """Rich wraps stderr at 80 columns: compare with the line breaks gone."""
    return " ".join(text.split()).replace("- ", "-")


def wait_until(check, timeout: float = 90, every: float = 0.1):
    """Poll `check` until it holds; the deadline is generous because a loaded machine is slow, not wrong."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def task_of(client, workflow_id: str) -> dict:
    return client.get_execution(workflow_id)["tasks"][0]


# ---- requirements (no server) ---------------------------------------------------------------
def fake_task(name: str, *requirements: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, task_dir=f"idflow/tasks/{name}", requirements=requirements)


def test_requirements_missing_wrong_version_and_unchecked():
    installed = {"httpx": "0.28.1", "pyyaml": "6.0.2"}

    def version_of(name: str) -> str:
        from importlib.metadata import PackageNotFoundError

        if name.lower() not in installed:
            raise PackageNotFoundError(name)
        return installed[name.lower()]

    tasks = [fake_task("a", "httpx>=0.27", "PyYAML<6", "no-such-package==1.0",
                       "only-on-old-python; python_version < '3.0'", "-r other.txt"),
             fake_task("a", "httpx>=0.27")]
    problems = check_requirements(tasks, version_of)
    found = {(p.requirement, p.problem, p.blocking) for p in problems}
    assert found == {("PyYAML<6", "installed 6.0.2, needs <6", True),
                     ("no-such-package==1.0", "not installed", True),
                     ("-r other.txt", "not checked (pip option, path or URL)", False)}
    assert all(p.path == "idflow/tasks/a/requirements.txt" for p in problems)


# ---- SDK wiring (no server) ---------------------------------------------------------------------
def test_flags_override_decorator_options_and_nothing_registers(monkeypatch):
    from idflow import worker_task
    from idflow.worker.pool import WorkerOverrides, WorkerPool, registered_workers, sdk_configuration

    name = f"t_overrides_{uuid.uuid4().hex[:8]}"

    @worker_task(task_definition_name=name, thread_count=2, poll_interval_millis=500, domain="a",
                 register_task_def=True)
    def work(value: int = 0) -> dict:
        return {"value": value}

    [plain] = registered_workers([name])
    assert (plain.thread_count, plain.poll_interval, plain.domain, plain.register_task_def) == (2, 500, "a", False)
    [flagged] = registered_workers([name], WorkerOverrides(threads=4, poll_interval_ms=50, domain="b"))
    assert (flagged.thread_count, flagged.poll_interval, flagged.domain) == (4, 50, "b")
    monkeypatch.setenv("conductor.worker.all.register_task_def", "true")  # the SDK's own override
    config = SimpleNamespace(api_url="http://127.0.0.1:9/api", conductor_api_key_env_var="X", verify_tls=True)
    pool = WorkerPool([flagged], sdk_configuration(config, environ={}))
    assert [r.worker.register_task_def for r in pool.runners] == [False]


def test_sdk_configuration_credentials():
    from conductor.client.http.api_client import ApiClient

    from idflow.worker.pool import sdk_configuration

    config = SimpleNamespace(api_url="http://127.0.0.1:9/api", conductor_api_key_env_var="MY_KEY", verify_tls=False)
    anonymous = sdk_configuration(config, environ={})
    assert anonymous.host == config.api_url and anonymous.authentication_settings is None
    assert anonymous.verify_ssl is False
    keyed = sdk_configuration(config, environ={"MY_KEY": "k-123"})
    assert ApiClient(configuration=keyed).get_authentication_headers() == {"header": {"X-Authorization": "k-123"}}
    pair = sdk_configuration(config, environ={"CONDUCTOR_AUTH_KEY": "id", "CONDUCTOR_AUTH_SECRET": "s",
                                              "MY_KEY": "ignored"})
    assert (pair.authentication_settings.key_id, pair.authentication_settings.key_secret) == ("id", "s")
    assert pair.AUTH_TOKEN is None  # the SDK fetches a token from key id + secret itself


def test_a_checkout_shaped_like_idflow_imports_its_own_task_files(tmp_path, monkeypatch):
    """idflow/tasks/x/x.py in a second checkout: the name idflow.tasks.x.x is the installed package's, so
    the file is loaded by path rather than silently importing (or failing on) the installed copy."""
    from conductor.client.automator.task_handler import get_registered_worker_names

    from idflow.discovery import discover
    from idflow.worker.loading import import_task_modules

    name = f"t_checkout_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "idflow" / "tasks" / name
    folder.mkdir(parents=True)
    for package in (tmp_path / "idflow", tmp_path / "idflow" / "tasks", folder):
        (package / "__init__.py").touch()
    (folder / "helper.py").write_text("ANSWER = 42\n")
    (folder / f"{name}.py").write_text(simple_task(name, header="from helper import ANSWER\n"))
    monkeypatch.chdir(tmp_path)
    [task] = discover(tmp_path / "idflow" / "tasks").tasks
    assert task.module == f"idflow.tasks.{name}.{name}"
    assert import_task_modules([task], tmp_path) == []
    assert name in get_registered_worker_names()


# ---- refusals before anything polls -------------------------------------------------------------
def simple_task(name: str, body: str = "    return {'ok': True}", header: str = "") -> str:
    return (f"{header}from idflow import worker_task\n\n\n"
            f"@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=60, "
            f"response_timeout_seconds=30)\n"
            f"def {name}(value: int = 0) -> dict:\n{body}\n")


@pytest.mark.server
def test_missing_requirement_is_named_and_nothing_starts(project, prefix, capsys):
    name = prefix + "needs"
    path = project.write_task(name, simple_task(name))
    (path.parent / "requirements.txt").write_text("pytest>=1\nidflow-no-such-package>=2\npytest<1\n")
    result = run_cli(capsys, "worker", "start", "--all")
    err = flat(result.err)
    assert result.code == 1
    assert "idflow-no-such-package>=2: not installed" in err
    assert "pytest<1: installed" in err
    assert "pytest>=1" not in err  # met: not reported
    assert f"pip install -r idflow/tasks/{name}/requirements.txt" in err
    assert "no worker was started" in err


@pytest.mark.server
def test_module_that_fails_to_import_names_the_file(project, prefix, capsys):
    good, bad = prefix + "good", prefix + "bad"
    project.write_task(good, simple_task(good))
    project.write_task(bad, simple_task(bad, header="import idflow_no_such_module\n"))
    result = run_cli(capsys, "worker", "start", "--all", "--json")
    err = flat(result.err)
    assert result.code == 1
    assert f"idflow/tasks/{bad}/{bad}.py" in err
    assert "ModuleNotFoundError" in err and "idflow_no_such_module" in err
    assert result.json["error"]["type"] == "WorkerStartError"
    assert good not in err  # the module that imported fine is not blamed


@pytest.mark.server
def test_seed_form_with_taskdef_keywords_points_to_idflow_decorator(project, prefix, capsys):
    name = prefix + "seed"
    project.write_task(name, f"""
        from conductor.client.worker.worker_task import worker_task


        @worker_task(task_definition_name={name!r}, retry_count=5)
        def {name}(task_input):
            return {{}}
        """)
    result = run_cli(capsys, "worker", "start", name)
    assert result.code == 1
    assert "unexpected keyword argument 'retry_count'" in flat(result.err)
    assert "from idflow import worker_task" in flat(result.err)


@pytest.mark.server
def test_unknown_task_name_and_usage(project, prefix, capsys):
    project.write_task(prefix + "a", simple_task(prefix + "a"))
    result = run_cli(capsys, "worker", "start", prefix + "nope")
    assert result.code == 1 and prefix + "nope" in flat(result.err) and prefix + "a" in flat(result.err)


# ---- a running worker and its stop -----------------------------------------------------------------
SLOW_ON_FIRST_POLL = """
import time

from conductor.client.http.models.task import Task
from idflow import worker_task


@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=300, response_timeout_seconds=120)
def {name}(task: Task) -> dict:
    if task.poll_count <= 1:
        time.sleep({first})
    return {{"polls": task.poll_count}}
"""


# Runs until the test releases it: no race between the task's time and the test's signal.
GATED = """
import pathlib
import time

from conductor.client.http.models.task import Task
from idflow import worker_task


@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=300, response_timeout_seconds=120)
def {name}(task: Task) -> dict:
    pathlib.Path({started!r}).touch()
    deadline = time.monotonic() + 120
    while not pathlib.Path({release!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return {{"polls": task.poll_count}}
"""


def _setup_slow(project, prefix, capsys, source: str = SLOW_ON_FIRST_POLL, **values) -> tuple[str, str]:
    task, workflow = prefix + "slow", prefix + "slow_wf"
    project.write_task(task, source.format(name=task, **values))
    (project.workflows_dir / f"{workflow}.json").write_text(json.dumps({
        "name": workflow, "version": 1, "tasks": [{"name": task, "taskReferenceName": "slow"}],
        "outputParameters": {"polls": "${slow.output.polls}"}}))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    return task, workflow


@pytest.mark.server
def test_sigterm_hands_an_unfinished_task_back_within_10s(project, prefix, client, capsys):
    task, workflow = _setup_slow(project, prefix, capsys, first=60)
    with WorkerProcess(project.root, "--all", "--grace", "2", "--json") as worker:
        worker.wait_for("polling")
        assert f"worker started: {task}" in worker.err
        run_id = client.start_workflow(workflow, {})
        assert wait_until(lambda: task_of(client, run_id)["status"] == "IN_PROGRESS"), task_of(client, run_id)
        code, elapsed = worker.stop()
    assert code == 0, worker.err
    assert elapsed < 10, f"stopped after {elapsed:.1f} s"
    assert "handed 1 unfinished task(s) back to the queue" in worker.err
    doc = json.loads(worker.out)
    assert doc["shutdown"]["released"] == [task_of(client, run_id)["taskId"]]
    assert task_of(client, run_id)["status"] == "SCHEDULED"  # back in the queue, not IN_PROGRESS

    with WorkerProcess(project.root, task) as second:  # another worker picks it up at once
        second.wait_for("polling")
        done = wait_until(lambda: client.get_execution(run_id)["status"] == "COMPLETED")
        second.stop()
    assert done, client.get_execution(run_id)
    assert client.get_execution(run_id)["output"] == {"polls": 2}


@pytest.mark.server
def test_sigint_lets_a_task_in_flight_finish(project, prefix, client, capsys):
    started, release = project.root / "started", project.root / "release"
    task, workflow = _setup_slow(project, prefix, capsys, GATED, started=str(started), release=str(release))
    with WorkerProcess(project.root, "--all", "--grace", "9") as worker:
        worker.wait_for("polling")
        run_id = client.start_workflow(workflow, {})
        assert wait_until(started.exists), worker.err                  # the task is running in the worker
        worker.proc.send_signal(signal.SIGINT)
        worker.wait_for("1 task(s) in flight")                          # stopping, the task still held
        release.touch()
        code = worker.proc.wait(60)
    assert code == 0, worker.err
    assert "handed" not in worker.err
    assert client.get_execution(run_id)["status"] == "COMPLETED"
    assert client.get_execution(run_id)["output"] == {"polls": 1}
