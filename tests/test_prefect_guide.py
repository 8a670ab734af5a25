"""The Prefect path as a new user meets it, for real: docs/prefect-guide.md run command by command
(a real `prefect server start`, `prefect deploy --all` of the `prefect.yaml` that `idflow init`
wrote, a real process worker, a real Conductor behind a fault proxy), then every flow's failing
end through a deployment run: its state, its artifact, and logs without a traceback.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from tests.faultproxy import FaultProxy
from tests.gitrepo import git
from tests.prefect_server import prefect_server  # noqa: F401  (a module-scoped fixture)
from tests.webhook import Webhook

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.server, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "prefect-guide.md"
GUIDE_CONDUCTOR = "http://127.0.0.1:8080/api"   # the guide's Conductor URL, replaced by the test's
GUIDE_WEBHOOK = "https://hooks.example.invalid/idflow-drift"   # the guide's alert URL, replaced by a receiver's
GUIDE_GIT = "https://git.example.invalid/you/my-repo.git"     # the guide's clone URL, replaced by the repository's path
RUN_DEADLINE = 240.0                            # seconds for one deployment run to end, on a loaded machine
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
MARK = "### idflow-guide-step: "
STARTED = "### started at "   # the epoch second each command started, the line after its MARK


def guide_commands(text: str) -> list[str]:
    """The commands of every ```bash block, in order (a trailing backslash continues a line; a
    here-document, `<<'EOF'` to `EOF`, belongs to its command)."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        pending, heredoc = "", None
        for raw in block.splitlines():
            if heredoc is not None:
                heredoc.append(raw)
                if raw == "EOF":
                    commands.append("\n".join(heredoc))
                    heredoc = None
                continue
            if raw.rstrip().endswith("<<'EOF'"):
                heredoc = [raw.strip()]
                continue
            line = pending + raw.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def as_script(commands: list[str], conductor_url: str, webhook_url: str, git_url: str) -> str:
    """One bash script of the guide. What a user runs in a terminal of its own runs here too:
    the worker in the background (its pid kept, stopped by the test); the Prefect server is the
    module's own (on a free port: PREFECT_API_URL says which). `pip install` is the test's venv."""
    lines = ["set -euo pipefail"]
    for command in commands:
        lines.append(f"echo {shlex.quote(MARK + command.partition(chr(10))[0])}")
        lines.append(f"echo \"{STARTED}$(date -u +%s.%N)\"")
        if command.startswith("pip install"):
            lines.append("idflow --version")  # installed: this test's environment
        elif command == "prefect server start":
            lines.append('curl -sf "$PREFECT_API_URL/health"; echo')
        elif command.startswith("prefect worker start"):
            lines.append(f'{command} > "$WORKER_LOG" 2>&1 &')
            lines.append('echo $! > "$WORKER_PID"')
        else:
            command = command.replace(GUIDE_CONDUCTOR, conductor_url).replace(GUIDE_WEBHOOK, webhook_url)
            first, _, rest = command.replace(GUIDE_GIT, git_url).partition("\n")  # a here-document stays below
            lines.append(first + " 2>&1" + ("\n" + rest if rest else ""))
    return "\n".join(lines) + "\n"


def steps(transcript: str) -> dict[str, str]:
    """The script's output, by command (a command run twice: its outputs joined)."""
    found: dict[str, str] = {}
    for part in transcript.split(MARK)[1:]:
        command, _, output = part.partition("\n")
        found[command] = found.get(command, "") + output
    return found


@dataclass
class Deployed:
    root: Path          # the repository the guide made
    env: dict[str, str]
    api: str
    proxy: FaultProxy
    worker_log: Path
    transcript: str
    task_prefix: str    # every task of this module starts with it (the project's)
    hook: Webhook       # receives what the guide's drift alert posts

    def worker_output(self) -> str:
        return self.worker_log.read_text(errors="replace")


def wait_terminal(api: str, run_id: str, deadline: float = RUN_DEADLINE) -> dict[str, Any]:
    """Poll the flow run until its state is terminal (event-driven enough: 0.5 s between reads)."""
    end = time.monotonic() + deadline
    while True:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).raise_for_status().json()
        if run["state_type"] in TERMINAL:
            return run
        if time.monotonic() > end:
            raise TimeoutError(f"flow run {run_id} still {run['state_type']} after {deadline:.0f}s")
        time.sleep(0.5)


def run_deployment(deployed: Deployed, name: str, **parameters: Any) -> dict[str, Any]:
    """Run it and wait for its end; `worker_since` is where the worker's output for it starts."""
    api = deployed.api
    since = len(deployed.worker_output())
    deployment = httpx.get(f"{api}/deployments/name/{name}", timeout=30).raise_for_status().json()
    end = time.monotonic() + 60
    while True:  # a loaded server may answer 503 for a moment
        answer = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                            json={"parameters": parameters}, timeout=30)
        if answer.status_code != 503 or time.monotonic() > end:
            run = answer.raise_for_status().json()
            break
        time.sleep(1)
    return {**wait_terminal(api, run["id"]), "worker_since": since}


def logs_of(api: str, run_id: str) -> list[dict[str, Any]]:
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200}
    return httpx.post(f"{api}/logs/filter", json=body, timeout=30).raise_for_status().json()


def artifacts_of(api: str, run_id: str) -> dict[str, dict[str, Any]]:
    body = {"artifacts": {"flow_run_id": {"any_": [run_id]}}}
    found = httpx.post(f"{api}/artifacts/filter", json=body, timeout=30).raise_for_status().json()
    return {a["key"]: a for a in found}


def assert_clean_logs(deployed: Deployed, run: dict[str, Any], since: int = 0) -> list[dict[str, Any]]:
    """No traceback, no engine exit error, no document dumped: in the run's logs and the worker's."""
    # Logs reach the API in batches after the state: wait for the run's last line.
    finished = f"Finished in state {run['state_name']}("
    end = time.monotonic() + 60
    while True:
        logs = logs_of(deployed.api, run["id"])
        if any(finished in log["message"] for log in logs):
            break
        assert time.monotonic() < end, "no 'Finished in state' line: the worker's logging level hides INFO?\n" \
            + "\n".join(log["message"][:300] for log in logs)
        time.sleep(0.5)
    shown = "\n".join(f"{log['level']} {log['name']}: {log['message']}" for log in logs)
    assert "Traceback" not in shown, shown
    assert "exited with unexpected exception" not in shown and "Unexpected result" not in shown, shown
    assert all(len(log["message"]) < 1000 for log in logs), shown   # the plan is in the artifact
    worker = deployed.worker_output()[since:]
    assert "Traceback" not in worker and "exited with unexpected exception" not in worker, worker[-4000:]
    return logs


def write_task(deployed: Deployed, name: str, *, commit: bool = True) -> Path:
    from idflow.taskdefs.scaffold import render

    for rel, content in render(name).items():
        path = deployed.root / "idflow" / "tasks" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    if commit:
        git(deployed.root, "add", "-A")
        git(deployed.root, "commit", "-q", "-m", f"add {name}")
    return deployed.root / "idflow" / "tasks" / name


def remove_task(deployed: Deployed, name: str) -> None:
    shutil.rmtree(deployed.root / "idflow" / "tasks" / name, ignore_errors=True)
    git(deployed.root, "add", "-A")
    if subprocess.run(["git", "-C", str(deployed.root), "diff", "--cached", "--quiet"]).returncode:
        git(deployed.root, "commit", "-q", "-m", f"remove {name}")


def forget(deployed: Deployed, name: str) -> None:
    """Delete the definition if a test left it on the server (a purge that was made to fail)."""
    from idflow.conductor.client import ConductorClient
    from idflow.base.errors import NotFound

    with ConductorClient(deployed.proxy.url) as client:
        try:
            client.delete_taskdef(name)
        except NotFound:
            pass


def idflow_cli(deployed: Deployed, *args: str) -> dict[str, Any]:
    done = subprocess.run([str(Path(sys.executable).parent / "idflow"), *args, "--json"], cwd=deployed.root,
                          env=deployed.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def stop(pid: int, grace: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `grace` seconds (a worker may not exit on
    SIGTERM alone while it is busy): the worker the guide started never outlives the test."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + grace
        while time.monotonic() < end:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                return
            if state == "Z":  # exited; its parent (the guide's script) is gone, nobody reaps it yet
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def deployed(prefect_server, conductor_url) -> Deployed:  # noqa: F811
    """The guide, run: init, deploy --all, a worker, and the runs it shows."""
    scratch = Path(tempfile.mkdtemp(prefix="idflow-guide-"))
    proxy = FaultProxy(conductor_url).start()
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in prefect_server.items()
           if not k.startswith(("IDFLOW_", "CONDUCTOR_")) and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update({"PATH": bin_dir + os.pathsep + env.get("PATH", ""), "WORKER_LOG": str(scratch / "worker.log"),
                "WORKER_PID": str(scratch / "worker.pid"),
                # The worker asks for runs every second (not 10 s), and logs at INFO as a user's would.
                "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "INFO",
                "COLUMNS": "200",  # a terminal's width: Prefect's tables cut names at 80 columns
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})
    hook = Webhook().start()
    (scratch / "guide.sh").write_text(as_script(guide_commands(GUIDE.read_text()), proxy.url, hook.url,
                                                str(scratch / "my-repo")))
    started = time.monotonic()
    done = subprocess.run(["bash", str(scratch / "guide.sh")], cwd=scratch, env=env, capture_output=True,
                          text=True, timeout=1200, stdin=subprocess.DEVNULL)
    sys.stderr.write(f"\nthe guide ran in {time.monotonic() - started:.0f}s\n")
    if os.environ.get("IDFLOW_GUIDE_TRANSCRIPT"):  # to read what a user sees: the whole session's output
        Path(os.environ["IDFLOW_GUIDE_TRANSCRIPT"]).write_text(done.stdout + done.stderr)
    root = scratch / "my-repo"
    project = json.loads(subprocess.run([bin_dir + "/python", "-c", "import json, yaml; print(json.dumps("
                                         "yaml.safe_load(open('config/idflow.yml'))['project']))"],
                                        cwd=root, capture_output=True, text=True).stdout or "null")
    worker_pid = (scratch / "worker.pid").read_text().strip() if (scratch / "worker.pid").exists() else None
    deployed = Deployed(root, {**env, "IDFLOW_PROJECT_DIR": str(root)}, env["PREFECT_API_URL"], proxy,
                        scratch / "worker.log", done.stdout + done.stderr,
                        re.sub(r"[^a-z0-9]+", "_", (project or "none").lower()) + "_", hook)
    try:
        assert done.returncode == 0, (f"the guide's script failed ({done.returncode}):\n{deployed.transcript[-6000:]}"
                                      f"\n--- worker:\n{deployed.worker_output()[-3000:] if worker_pid else ''}")
        yield deployed
    finally:
        if worker_pid:
            stop(int(worker_pid))
        from idflow.conductor.client import ConductorClient

        with ConductorClient(conductor_url) as client:
            for taskdef in client.list_taskdefs():
                if str(taskdef.get("name", "")).startswith(deployed.task_prefix):
                    client.delete_taskdef(taskdef["name"])
        proxy.stop()
        hook.stop()
        time.sleep(0)  # the worker's runs are gone with it; the temp dir holds its log until removed
        shutil.rmtree(scratch, ignore_errors=True)


# ---- the guide -----------------------------------------------------------------------------------
def test_every_command_of_the_guide_runs_and_says_what_the_guide_says(deployed):
    ran = steps(deployed.transcript)
    assert set(ran) == {c.partition("\n")[0] for c in guide_commands(GUIDE.read_text())}, "a command did not run"
    drift_report = "prefect deployment run 'idflow-diff/idflow-drift-report' --watch"
    assert "finished successfully in 'Drift'" in ran[drift_report], ran[drift_report]   # first run: Drift
    assert "finished successfully in 'Completed'" in ran[drift_report]      # after the upload: in sync
    listed = ran["prefect flow-run ls --flow-name idflow-diff --state Drift"]
    assert "Drift" in listed and "diff all tasks: Drift: 1 to create" in " ".join(listed.split())
    assert "Traceback" not in deployed.transcript
    # Step 9: the GitOps drift report ran on a fresh clone of main, and found it in sync.
    gitops = ran["prefect deployment run 'idflow-diff/idflow-gitops-drift-report' --watch"]
    assert gitops.count("prefect.flow-run.pull-step.executed") == 2, gitops   # the clone, then the directory
    assert "finished successfully in 'Completed'" in gitops, gitops
    assert "Executing deployment step: git_clone" in deployed.worker_output()


def test_the_guides_drift_alert_posts_what_was_found_to_the_webhook(deployed):
    """The automation `python -m idflow.flows.alerts URL` created, on a real server: the guide's
    first drift report (Drift: 1 to create) posts its name and message to the webhook."""
    wanted = "idflow drift: diff all tasks: Drift: 1 to create, 0 to update, 0 orphaned"
    posts = deployed.hook.wait(lambda got: any(wanted in str((p or {}).get("text")) for p in got))
    [alert] = [p for p in posts if wanted in str(p.get("text"))][:1]
    text = alert["text"]
    assert "(flow idflow-diff, deployment idflow-drift-report)" in text and "/runs/flow-run/" in text, text
    shown = steps(deployed.transcript)["prefect automation ls"]
    assert "idflow: drift found" in shown


TURN_ON = "sed -i.bak 's/active: false  # writes/active: true  # writes/' prefect.yaml && rm prefect.yaml.bak"


def test_no_schedule_that_writes_is_active_after_deploy_all(deployed):
    """After `prefect deploy --all` of init's file (and the guide's resume-then-pause), only the
    read-only drift report is scheduled; the sync's schedule exists and is paused."""
    found = httpx.post(f"{deployed.api}/deployments/filter", json={}, timeout=30).raise_for_status().json()
    by_name = {d["name"]: d for d in found}
    assert set(by_name) == {"idflow-drift-report", "idflow-sync", "idflow-upload", "idflow-purge-orphaned",
                            "idflow-task-status", "idflow-gitops-drift-report", "idflow-gitops-sync"}  # gitops: step 9
    active = {name for name, d in by_name.items() if any(s["active"] for s in d["schedules"])}
    assert active == {"idflow-drift-report", "idflow-task-status", "idflow-gitops-drift-report"}  # read-only
    assert [s["active"] for s in by_name["idflow-sync"]["schedules"]] == [False]
    assert [s["active"] for s in by_name["idflow-gitops-sync"]["schedules"]] == [False]
    # Until step 7 turned it on, no sync ran (once on, a run the schedule made may still run after it is off).
    turned_on = float(steps(deployed.transcript)[TURN_ON].split(STARTED, 1)[1].split()[0])
    runs = httpx.post(f"{deployed.api}/flow_runs/filter", json={}, timeout=30).raise_for_status().json()
    ran = [r for r in runs if r["deployment_id"] == by_name["idflow-sync"]["id"] and r["state_type"] != "SCHEDULED"
           and datetime.fromisoformat(r["created"].replace("Z", "+00:00")).timestamp() < turned_on]
    assert ran == [], "a sync ran on its own"
    turned_on = steps(deployed.transcript)["prefect deployment schedule ls 'idflow-sync/idflow-sync'"]
    assert "True" in turned_on and "False" in turned_on  # paused, on (step 6), and paused again


# ---- the flows' ends, through a deployment and a worker ----------------------------------------
def test_drift_through_a_deployment_is_named_after_what_it_found(deployed):
    name = deployed.task_prefix + "drifted"
    write_task(deployed, name)
    try:
        run = run_deployment(deployed, "idflow-diff/idflow-drift-report")
        assert (run["state_type"], run["state_name"]) == ("COMPLETED", "Drift")
        assert run["state"]["message"] == "Drift: 1 to create, 0 to update, 0 orphaned"
        assert run["name"] == "diff all tasks: Drift: 1 to create, 0 to update, 0 orphaned"
        plan = artifacts_of(deployed.api, run["id"])["idflow-plan"]
        assert plan["data"].startswith("# Drift: 1 to create") and name in plan["data"]
        assert_clean_logs(deployed, run, run["worker_since"])
    finally:
        remove_task(deployed, name)


def test_sync_and_purge_through_a_deployment(deployed):
    gone = deployed.task_prefix + "gone"
    write_task(deployed, gone)
    synced = run_deployment(deployed, "idflow-sync/idflow-sync")
    assert synced["state_type"] == "COMPLETED" and synced["name"] == "sync"
    assert gone in artifacts_of(deployed.api, synced["id"])["idflow-result"]["data"]
    assert_clean_logs(deployed, synced, synced["worker_since"])

    remove_task(deployed, gone)
    purged = run_deployment(deployed, "idflow-purge-orphaned/idflow-purge-orphaned", dry_run=False)
    assert purged["state_type"] == "COMPLETED" and purged["name"] == "purge orphaned"
    result = artifacts_of(deployed.api, purged["id"])["idflow-purge-result"]["data"]
    assert f"| {gone} | deleted |" in result
    assert_clean_logs(deployed, purged, purged["worker_since"])


@dataclass
class FailingEnd:
    deployment: str
    parameters: dict[str, Any]
    prepare: Callable[[Deployed, str], None]
    state_name: str
    message: str        # a regular expression the whole message matches; NAME is the task
    artifact: str
    says: str           # in that artifact


def _new_task(deployed: Deployed, name: str) -> None:
    write_task(deployed, name)


def _writes_rejected(deployed: Deployed, name: str) -> None:
    write_task(deployed, name)
    deployed.proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="status", status=400,
                            body={"status": 400, "message": "rejected by the test", "validationErrors": []})


def _deletes_rejected(deployed: Deployed, name: str) -> None:
    write_task(deployed, name)
    assert idflow_cli(deployed, "tasks", "upload", name)["created"] == [name]
    remove_task(deployed, name)
    deployed.proxy.add_rule(method="DELETE", path="/api/metadata/taskdefs/", action="status", status=500,
                            body={"status": 500, "message": "rejected by the test"})


def _uncommitted(deployed: Deployed, name: str) -> None:
    write_task(deployed, name, commit=False)


def _broken(deployed: Deployed, name: str) -> None:
    folder = deployed.root / "idflow" / "tasks" / name
    folder.mkdir(parents=True)
    (folder / f"{name}.py").write_text("from idflow import worker_task\n\ndef broken(:\n")


FAILING_ENDS = {
    "diff, fail_on_drift": FailingEnd("idflow-diff/idflow-drift-report", {"fail_on_drift": True}, _new_task,
                                      "Drift", r"Drift: 1 to create, 0 to update, 0 orphaned", "idflow-plan",
                                      "# Drift: 1 to create"),
    "upload, a write rejected": FailingEnd(
        "idflow-upload/idflow-upload", {}, _writes_rejected, "Failed",
        r"1 definition\(s\) not written or not verified: NAME \(see the idflow-result artifact; .*\)",
        "idflow-result", "**FAILED**"),
    "sync, a write rejected": FailingEnd(
        "idflow-sync/idflow-sync", {}, _writes_rejected, "Failed",
        r"1 definition\(s\) not written or not verified: NAME \(see the idflow-result artifact; .*\)",
        "idflow-result", "**FAILED**"),
    "purge, a delete rejected": FailingEnd(
        "idflow-purge-orphaned/idflow-purge-orphaned", {"dry_run": False}, _deletes_rejected, "Failed",
        r"1 definition\(s\) not deleted: NAME \(see the idflow-purge-result artifact\)",
        "idflow-purge-result", "| NAME | failed |"),
    "upload, refused on a dirty tree": FailingEnd(
        "idflow-upload/idflow-upload", {"require_clean": True}, _uncommitted, "Failed", r".*uncommitted.*",
        "idflow-refused", "Nothing was changed"),
    "upload, invalid task files": FailingEnd(
        "idflow-upload/idflow-upload", {}, _broken, "Failed", r".*problem\(s\) in the task files.*",
        "idflow-refused", "NAME.py"),
}


@pytest.mark.parametrize("case", list(FAILING_ENDS))
def test_every_failing_end_is_a_short_message_an_artifact_and_no_traceback(deployed, case):
    end = FAILING_ENDS[case]
    name = deployed.task_prefix + re.sub(r"[^a-z]+", "_", case).strip("_")
    try:
        end.prepare(deployed, name)
        run = run_deployment(deployed, end.deployment, **end.parameters)
    finally:
        deployed.proxy.clear()
        remove_task(deployed, name)
        forget(deployed, name)
    assert (run["state_type"], run["state_name"]) == ("FAILED", end.state_name), run["state"]
    message = run["state"]["message"]
    assert re.fullmatch(end.message.replace("NAME", re.escape(name)), message), message
    assert len(message) <= 300 and "\n" not in message
    # The run list says it too: "upload all tasks: failed: 1 definition(s) not written ...".
    said = "Drift: " if end.state_name == "Drift" else "failed: "
    assert ": " + said + message[:40] in run["name"], run["name"]
    shown = artifacts_of(deployed.api, run["id"])
    assert end.artifact in shown, sorted(shown)
    assert end.says.replace("NAME", name) in shown[end.artifact]["data"], shown[end.artifact]["data"]
    assert_clean_logs(deployed, run, run["worker_since"])
