"""Task dirs that are not what they seem: each a clear issue naming the path, never a crash, a hang or
a walk of the whole disk; the same directory listed twice is read once, with a warning."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.clihelp import run_cli

SOURCE = "from idflow import worker_task\n\n\n@worker_task(task_definition_name='hello')\ndef hello(x):\n    return {}\n"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "idflow" / "tasks" / "hello").mkdir(parents=True)
    (tmp_path / "idflow" / "tasks" / "hello" / "hello.py").write_text(SOURCE)
    (tmp_path / "config").mkdir()
    return tmp_path


def _fifo(root: Path) -> str:
    os.mkfifo(root / "fifo")
    return "fifo"


def _loop(root: Path) -> str:
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    return "a"


def _file(root: Path) -> str:
    (root / "plain").write_text("x")
    return "plain"


BAD_DIRS = {
    "proc-self": (lambda root: "/proc/self", "is in /proc, a file system the kernel makes up"),
    "proc": (lambda root: "/proc", "is in /proc"),
    "sys": (lambda root: "/sys/kernel", "is in /sys"),
    "fifo": (_fifo, "is a FIFO (named pipe), not a directory"),
    "device": (lambda root: "/dev/null", "is a character device, not a directory"),
    "symlink-loop": (_loop, "is a loop of symbolic links"),
    "file": (_file, "is not a regular file" if False else "not a directory"),
    "missing": (lambda root: "nowhere", "does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_DIRS))
@pytest.mark.parametrize("argv", [("tasks", "list", "--local", "--json"), ("tasks", "upload", "--all", "--json"),
                                  ("tasks", "purge", "--orphaned", "--dry-run", "--json")],
                         ids=["list", "upload", "purge"])
@pytest.mark.server
def test_a_tasks_dir_that_is_no_folder_is_a_clear_error(root, capsys, case, argv, conductor_url):
    make, fragment = BAD_DIRS[case]
    bad = make(root)
    (root / "config" / "idflow.yml").write_text(f"project: p-{case}\nconductor_server_url: {conductor_url}\n"
                                                f"tasks_dirs: [{bad}]\n")
    done = run_cli(capsys, *argv)
    text = " ".join((done.out + done.err).split())
    assert done.code in (1, 3) and "internal error" not in text and "Traceback" not in text, text
    assert f"tasks dir {bad} {fragment}" in text or fragment in text, text
    assert bad in text


def test_a_link_into_proc_inside_the_tasks_dir_is_not_walked(root, capsys):
    (root / "idflow" / "tasks" / "self").symlink_to("/proc/self")
    (root / "config" / "idflow.yml").write_text("project: p\n")
    done = run_cli(capsys, "tasks", "list", "--local", "--json")
    messages = [i["message"] for i in done.json["issues"]]
    assert done.code == 1 and any("is a link into /proc" in m for m in messages), messages
    assert [t["name"] for t in done.json["tasks"]] == ["hello"]


@pytest.mark.parametrize("listing", ["[idflow/tasks, idflow/tasks]", "[idflow/tasks, ./idflow/tasks/]",
                                     "[link, idflow/tasks]", "[idflow/tasks, link]", "[link]"])
def test_the_same_directory_twice_is_read_once_and_never_overrides_itself(root, capsys, listing):
    (root / "link").symlink_to(root / "idflow" / "tasks", target_is_directory=True)
    (root / "config" / "idflow.yml").write_text(f"project: p\ntasks_dirs: {listing}\n")
    done = run_cli(capsys, "tasks", "list", "--local", "--json")
    assert done.code == 0, done.out + done.err
    [task] = done.json["tasks"]
    assert task["name"] == "hello" and not task.get("overrides"), task
    messages = " ".join(i["message"] for i in done.json["issues"])
    assert "overrides" not in messages
    if "link" in listing:
        assert "is the same directory as" in messages and "read once" in messages, messages
