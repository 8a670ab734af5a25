"""idflow as users install it: the wheel (not editable) in a fresh venv outside the checkout,
run from a user's repository that has its own `flows/` package and its own `idflow/__init__.py`.

The wheel is built once per session from this checkout (sdist, then the wheel from the sdist),
its dependencies come from a wheelhouse built with constraints.txt (pip's cache), and the venv
installs with --no-index: what CI tested is what gets installed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.prefect_fixtures import QUIET
from tests.test_prefect_deploy import prefect_server  # noqa: F401  (a module-scoped Prefect server)

# Building the wheel, its wheelhouse and a fresh venv is charged to the first test: about 50 s on an
# idle machine, over 300 s (the suite's default limit) at load 12 on 2 cores.
pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parent.parent
PIP = ["-m", "pip", "--disable-pip-version-check", "--no-input"]
TIMINGS: dict[str, float] = {}


def _run(cmd, *, cwd=None, env=None, timeout=600, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert done.returncode == 0, f"{' '.join(map(str, cmd))} -> {done.returncode}\n{done.stdout[-3000:]}\n" \
                                     f"{done.stderr[-3000:]}"
    return done


class Installed:
    def __init__(self, venv: Path, wheel: Path) -> None:
        self.venv, self.wheel = venv, wheel
        self.bin = venv / "bin"
        self.python, self.idflow, self.prefect = self.bin / "python", self.bin / "idflow", self.bin / "prefect"


@pytest.fixture(scope="session")
def scratch() -> Path:
    """A temp dir of our own: pytest's numbered tmp dirs are pruned by any concurrent pytest run."""
    base = Path(tempfile.mkdtemp(prefix="idflow-wheel-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def installed(scratch) -> Installed:
    """The wheel installed, not editable, into a fresh venv in a temp dir (outside the checkout)."""
    base = scratch / "install"
    started = time.monotonic()
    _run([sys.executable, "-m", "build", "--outdir", base / "dist", REPO], env=user_env(), timeout=600)
    [wheel] = (base / "dist").glob("idflow-*.whl")
    TIMINGS["build sdist + wheel"] = time.monotonic() - started

    started = time.monotonic()
    _run([sys.executable, *PIP, "wheel", "--quiet", "--wheel-dir", base / "wheelhouse",
          "-c", REPO / "constraints.txt", f"idflow[prefect] @ {wheel.as_uri()}"], env=user_env(), timeout=900)
    TIMINGS["wheelhouse"] = time.monotonic() - started

    # First the CLI alone, as `pipx install idflow` or a CI runner that only uploads has it: no Prefect.
    started = time.monotonic()
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], env=user_env())
    python = venv / "bin" / "python"
    _run([python, *PIP, "install", "--quiet", "--no-index", "--find-links", base / "wheelhouse", wheel],
         env=user_env(), timeout=900)
    TIMINGS["venv + CLI install"] = time.monotonic() - started
    CLI_ONLY["packages"] = _run([python, *PIP, "list", "--format", "freeze"], env=user_env()).stdout.split()
    CLI_ONLY["version"] = _run([venv / "bin" / "idflow", "--version"], env=user_env()).stdout
    CLI_ONLY["prefect"] = _run([venv / "bin" / "idflow", "tasks", "diff", "--prefect", "--json"], env=user_env(),
                               check=False)

    # Then what a Prefect worker's environment installs.
    started = time.monotonic()
    _run([python, *PIP, "install", "--quiet", "--no-index", "--find-links", base / "wheelhouse",
          f"idflow[prefect] @ {wheel.as_uri()}"], env=user_env(), timeout=900)
    TIMINGS["+ [prefect] install"] = time.monotonic() - started
    sys.stderr.write("\nwheel install timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in TIMINGS.items()) + "\n")
    return Installed(venv, wheel)


CLI_ONLY: dict = {}


def test_the_cli_installs_without_prefect_and_says_how_to_add_it(installed):
    names = {line.split("==")[0].lower() for line in CLI_ONLY["packages"]}
    assert "prefect" not in names and "prefect-client" not in names and "idflow" in names
    assert not {"uvicorn", "sqlalchemy", "alembic", "fastapi"} & names   # no server stack
    assert "\nprefect not installed\n" in CLI_ONLY["version"]
    refused = CLI_ONLY["prefect"]
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    error = json.loads(refused.stdout)["error"]
    assert "not installed" in error["message"] and "idflow[prefect-client]" in error["hint"]


def user_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell has: no checkout on the path (a PYTHONPATH with this checkout
    would make pip see idflow as installed already), the project's config decides the server."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CONDUCTOR_SERVER_URL", "IDFLOW_CONFIG", "PYTHONSAFEPATH")}
    return {**env, **QUIET, **extra}


@pytest.fixture
def user_repo(scratch, installed, conductor_url, prefix) -> Path:
    """A user's Git repository: its own flows/ package, its own idflow/__init__.py, then `idflow init`."""
    root = Path(tempfile.mkdtemp(dir=scratch)) / "user-repo"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "__init__.py").write_text("WHOSE = 'the user'\n")
    (root / "idflow").mkdir()
    (root / "idflow" / "__init__.py").write_text("WHOSE = 'the user'\n")
    _run(["git", "init", "-q", "-b", "main", root])
    done = _run([installed.idflow, "--server-url", conductor_url, "init", "--task", f"{prefix}hello", "--json"],
                cwd=root, env=user_env())
    assert json.loads(done.stdout)["project"].startswith("user-repo-")
    return root


def commit(root: Path, message: str) -> None:
    git = ["git", "-C", root, "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    _run([*git, "add", "-A"])
    _run([*git, "commit", "-q", "-m", message])


def idflow(installed: Installed, root: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess:
    done = _run([installed.idflow, *args], cwd=root, env=user_env(), check=False, timeout=120)
    assert done.returncode == code, f"idflow {' '.join(args)} -> {done.returncode}\n{done.stdout[-3000:]}\n" \
                                    f"{done.stderr[-3000:]}"
    return done


def test_the_wheel_holds_one_top_level_package(installed):
    shown = _run([installed.python, *PIP, "show", "-f", "idflow"], env=user_env()).stdout
    files = shown.split("Files:", 1)[1].split()
    tops = {f.split("/")[0] for f in files if not f.startswith("..") and ".dist-info" not in f}
    assert tops == {"idflow", "idflow.pth"}, tops
    top_level = _run([installed.python, "-c", "import importlib.metadata as m; "
                      "print(m.distribution('idflow').read_text('top_level.txt'))"], env=user_env()).stdout.split()
    assert top_level == ["idflow"]
    assert "idflow/templates/prefect.yaml" in files and "idflow/templates/idflow.yml" in files
    assert not any(f.startswith(("flows/", "idflow/tasks/")) for f in files)
    # --version reads every number from the installed metadata.
    versions = _run([installed.idflow, "--version"], env=user_env()).stdout
    assert versions.startswith("idflow 0.") and "\nprefect 3." in versions and "\nconductor-python " in versions


def test_a_users_repository_from_doctor_to_a_completed_workflow(installed, user_repo, prefix, client):
    root, task = user_repo, f"{prefix}hello"
    workflow = f"{prefix}greeting"
    (root / "idflow" / "workflows").mkdir()
    (root / "idflow" / "workflows" / f"{workflow}.json").write_text(json.dumps({
        "name": workflow, "version": 1, "schemaVersion": 2, "timeoutSeconds": 60, "timeoutPolicy": "TIME_OUT_WF",
        "tasks": [{"name": task, "taskReferenceName": "hello", "type": "SIMPLE",
                   "inputParameters": {"text": "${workflow.input.text}"}}],
        "outputParameters": {"result": "${hello.output.result}"}}))
    commit(root, "init")

    # The user's own packages stay theirs: the wheel installed no `flows`, and their idflow/
    # folder does not hide the installed idflow even with the repository first on sys.path.
    # PYTHONPATH too: Prefect 3.9 starts a flow run's process with the working directory in it.
    probe = _run([installed.python, "-c", "import flows, idflow.flows.definitions as d; from idflow import "
                  "worker_task; print(flows.WHOSE, '|', d.__file__)"], cwd=root,
                 env=user_env(PYTHONPATH=str(root))).stdout
    assert probe.startswith("the user |") and str(installed.venv) in probe
    assert idflow(installed, root, "--version").stdout.startswith("idflow ")
    as_module = _run([installed.python, "-m", "idflow.cli", "--version"], cwd=root, env=user_env())
    assert as_module.stdout.startswith("idflow ")

    doctor = json.loads(idflow(installed, root, "doctor", "--json").stdout)
    assert doctor["ok"] is True, doctor
    listed = idflow(installed, root, "tasks", "list", "--local", "--json").stdout
    assert task in listed
    first = json.loads(idflow(installed, root, "tasks", "upload", "--all", "--json").stdout)
    assert first["created"] == [task] and first["provenance_missing"] is False
    again = json.loads(idflow(installed, root, "tasks", "upload", "--all", "--json").stdout)
    assert again["created"] == [] and again["updated"] == [] and again["plan"]["counts"]["unchanged"] == 1
    purge = json.loads(idflow(installed, root, "tasks", "purge", "--orphaned", "--dry-run", "--json").stdout)
    assert purge["deleted"] == [] and task not in json.dumps(purge.get("would_delete", []))
    assert client.get_taskdef(task)["name"] == task
    idflow(installed, root, "workflows", "upload", "--all")

    worker = subprocess.Popen([str(installed.idflow), "worker", "start", "--all"], cwd=root, env=user_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    polling = threading.Event()

    def read() -> None:
        for line in worker.stderr:
            lines.append(line)
            if "polling" in line:
                polling.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert polling.wait(60), "".join(lines)
        ran = idflow(installed, root, "workflow", "run", workflow, "--input", '{"text": "from a wheel"}',
                     "--wait", "--timeout", "60", "--json")
        doc = json.loads(ran.stdout)
        assert doc["status"] == "COMPLETED" and doc["output"] == {"result": "from a wheel"}, doc
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(20)
        reader.join(5)
    assert code == 0, "".join(lines)


def test_a_deployment_from_init_prefect_yaml_run_by_a_worker(installed, user_repo, prefect_server,  # noqa: F811
                                                             prefix, client):
    root = user_repo
    deployed = f"{prefix}deployed"
    _run([installed.idflow, "tasks", "new", deployed], cwd=root, env=user_env())
    commit(root, "init, and a task only the deployment uploads")
    env = user_env(**{k: v for k, v in prefect_server.items() if k.startswith("PREFECT_")})
    env.pop("IDFLOW_PROJECT_DIR", None)

    _run([installed.prefect, "work-pool", "create", "idflow-pool", "--type", "process"], env=env, timeout=120)
    # Deploying loads the module entrypoint with the repository first on sys.path.
    done = _run([installed.prefect, "--no-prompt", "deploy", "--name", "idflow-upload"], cwd=root, env=env,
                timeout=180)
    assert "idflow-upload/idflow-upload" in done.stdout
    run = _run([installed.prefect, "deployment", "run", "idflow-upload/idflow-upload"], cwd=root, env=env)
    run_id = next(line.split()[-1] for line in run.stdout.splitlines() if "UUID" in line)
    # Started elsewhere: the pull step moves the run into the repository, whose idflow/ must not shadow.
    worker = _run([installed.prefect, "worker", "start", "--pool", "idflow-pool", "--run-once", "--limit", "1"],
                  cwd=tempfile.gettempdir(), env={**env, "IDFLOW_PROJECT_DIR": str(root)}, timeout=240)

    state = _run([installed.prefect, "flow-run", "inspect", run_id], env=env).stdout
    assert "state_type=StateType.COMPLETED" in state, (worker.stdout + worker.stderr)[-4000:]
    on_server = {d["name"] for d in client.list_taskdefs()}
    assert {deployed, f"{prefix}hello"} <= on_server
