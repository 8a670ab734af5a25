"""Every command that reads a file, on every hostile file: a clear error naming the file, exit 1 or 2
(0 only where the file is legitimately nothing, e.g. an empty config), never an internal error or a
hang, and nothing written to the server.

`python -m tests.test_hostile_inputs` prints the same matrix as a table (command, input, exit, message).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

BIG = "9" * 5000
BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"] +
                 [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]) + "\n"
NOT_UTF8 = b'{"name": "caf\xe9", "tasks": []}\n'


@dataclass(frozen=True)
class Target:
    key: str
    argv: tuple[str, ...]
    path: str            # where the hostile file goes, relative to the project
    skeleton: str        # a well-formed file with @V@ where a value goes
    yaml: bool = False


TASK = ("from idflow import worker_task\n\n\n@worker_task(task_definition_name='hp', retry_count=@V@)\n"
        "def hp(x):\n    return {}\n")
TARGETS = [
    Target("config", ("tasks", "list", "--local", "--json"), "config/idflow.yml",
           "project: hostile\nbatch_size: @V@\n", yaml=True),
    Target("workflows upload (.json)", ("workflows", "upload", "--all", "--json"), "idflow/workflows/w.json",
           '{"name": "hw", "version": 1, "tasks": [], "timeoutSeconds": @V@}'),
    Target("workflows upload (.yaml)", ("workflows", "upload", "--all", "--json"), "idflow/workflows/w.yaml",
           "name: hw\nversion: 1\ntasks: []\ntimeoutSeconds: @V@\n", yaml=True),
    Target("events upload", ("events", "upload", "--all", "--json"), "idflow/workflows/event_handlers.json",
           '[{"name": "he", "event": "conductor:x:y", "actions": [], "n": @V@}]'),
    Target("tasks purge --orphaned (reads workflows)", ("tasks", "purge", "--orphaned", "-y", "--json"),
           "idflow/workflows/w.json", '{"name": "hw", "version": 1, "tasks": [], "timeoutSeconds": @V@}'),
    Target("tasks restore FILE", ("tasks", "restore", "backup.json", "-y", "--json"), "backup.json",
           '{"format": 1, "taskdefs": [{"name": "hb", "retryCount": @V@}]}'),
    Target("workflows restore FILE", ("workflows", "restore", "backup.json", "-y", "--json"), "backup.json",
           '{"format": 1, "workflows": [{"name": "hb", "version": 1, "tasks": [], "timeoutSeconds": @V@}]}'),
    Target("tasks backups (a backup in state_dir)", ("tasks", "backups", "--json"), ".idflow/backups/b.json",
           '{"format": 1, "taskdefs": [{"name": "hb", "retryCount": @V@}]}'),
    Target("workflows backups (a backup in state_dir)", ("workflows", "backups", "--json"),
           ".idflow/backups/workflows/b.json",
           '{"format": 1, "workflows": [{"name": "hb", "version": 1, "tasks": [], "timeoutSeconds": @V@}]}'),
    Target("tasks apply PLAN", ("tasks", "apply", "plan.json", "--json"), "plan.json",
           '{"format": 1, "items": [], "x": @V@}'),
    Target("workflow run --input @FILE.json", ("workflow", "run", "hw", "--input", "@input.json", "--json"),
           "input.json", '{"a": @V@}'),
    Target("workflow run --input @FILE.yaml", ("workflow", "run", "hw", "--input", "@input.yaml", "--json"),
           "input.yaml", "a: @V@\n", yaml=True),
    Target("tasks upload (task file)", ("tasks", "upload", "--all", "--json"), "idflow/tasks/hp/hp.py", TASK),
    Target("init --force (existing config)", ("init", "--force", "--json"), "config/idflow.yml",
           "project: hostile\nbatch_size: @V@\n", yaml=True),
]
INPUTS = ["empty file", "directory", "FIFO", "5,000-digit integer", "NaN", "YAML alias bomb", "invalid UTF-8"]


def write_input(root: Path, target: Target, kind: str) -> Path:
    path = root / target.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_dir():
        path.unlink()
    if kind == "directory":
        path.mkdir()
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "empty file":
        path.write_bytes(b"")
    elif kind == "invalid UTF-8":
        path.write_bytes(NOT_UTF8)
    elif kind == "YAML alias bomb":
        path.write_text(BOMB)
    else:
        python = target.path.endswith(".py")
        value = BIG if kind.startswith("5,000") else ("float('nan')" if python else ".nan" if target.yaml else "NaN")
        path.write_text(target.skeleton.replace("@V@", value))
    return path


class Hang(Exception):
    pass


def run_case(root: Path, target: Target, kind: str, server_url: str, timeout: int = 60) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the command in `root`, a SIGALRM watchdog stopping a hang."""
    from idflow.cli.app import main

    write_input(root, target, kind)

    def alarm(signum, frame):
        raise Hang(f"{target.key} on {kind} still running after {timeout} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(timeout)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(root)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--server-url", server_url, *target.argv])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def make_project(root: Path) -> Path:
    for folder in ("idflow/tasks", "idflow/workflows", "config"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config" / "idflow.yml").write_text("project: hostile-inputs\n")
    return root


def message_of(code: int, out: str, err: str) -> str:
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        issues = doc["error"].get("issues") or []
        first = issues[0] if issues and isinstance(issues[0], dict) else None
        where = f"{first.get('path')}:{first.get('line')}: {first.get('message')}" if first else ""
        return doc["error"]["message"] + (f": {where}" if where else "")
    if isinstance(doc, dict) and doc.get("issues"):
        return "; ".join(str(i.get("message", i)) for i in doc["issues"][:2])
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    return " ".join(lines[:2])


EMPTY_IS_FINE = {"config", "init --force (existing config)", "tasks upload (task file)",
                 "tasks purge --orphaned (reads workflows)"}


@pytest.mark.server
@pytest.mark.parametrize("kind", INPUTS)
@pytest.mark.parametrize("target", TARGETS, ids=[t.key for t in TARGETS])
def test_every_reader_on_every_hostile_file(tmp_path, monkeypatch, fault_proxy, target, kind):
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "IDFLOW_WORKFLOWS_DIR", "IDFLOW_STATE_DIR",
                 "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    root = make_project(tmp_path / "project")
    proxy = fault_proxy()
    code, out, err = run_case(root, target, kind, proxy.url)
    text = out + err
    assert "internal error" not in text and "Traceback" not in text, text
    assert [r for r in proxy.requests if r.method != "GET"] == [] or target.key.startswith("init"), text
    if target.argv[-1] == "--json" or "--json" in target.argv:
        json.loads(out)                                   # exactly one JSON document
    directory_is_a_folder = kind == "directory" and not target.path.endswith(
        ("backup.json", "plan.json", "input.json", "input.yaml", "idflow.yml"))
    if (kind == "empty file" and target.key in EMPTY_IS_FINE) or directory_is_a_folder or (
            target.key.startswith("init")):
        assert code in (0, 1, 2, 3), text                 # nothing to read there, or a clear refusal
        return
    # purge refuses for safety (3): a workflow file it cannot read may use any definition
    assert code in ((3,) if "purge" in target.key else (1, 2)), text
    name = Path(target.path).name
    assert name in " ".join(text.split()), text           # the message names the file


def main_table() -> None:  # pragma: no cover - a report helper
    import tempfile

    url = os.environ.get("CONDUCTOR_SERVER_URL", "http://127.0.0.1:8080/api")
    print("| command | input | exit | message |\n|---|---|---|---|")
    for target in TARGETS:
        for kind in INPUTS:
            with tempfile.TemporaryDirectory() as tmp:
                root = make_project(Path(tmp) / "project")
                try:
                    code, out, err = run_case(root, target, kind, url)
                    message = message_of(code, out, err)
                except Hang as exc:
                    code, message = "HANG", str(exc)
                message = " ".join(message.replace(tmp, "").split()).replace("|", "\\|")
                print(f"| {target.key} | {kind} | {code} | {message[:230]} |")
                sys.stdout.flush()


if __name__ == "__main__":
    main_table()
