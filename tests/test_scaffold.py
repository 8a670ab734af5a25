"""`idflow tasks new NAME` and the `tasks list --local` rendering."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from idflow.cli.app import main
from idflow.cli.render.local import render_local
from idflow.discovery import discover
from idflow.taskdefs.scaffold import render

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "IDFLOW_STATE_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_new_task_is_valid_importable_and_callable(project, capsys):
    code, out, _ = run(capsys, "tasks", "new", "send_email")
    assert code == 0
    folder = project / "idflow/tasks/send_email"
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "requirements.txt", "send_email.py"]
    assert (folder / "requirements.txt").read_text() == ""
    assert "idflow/tasks/send_email/send_email.py" in out
    found = discover("idflow/tasks")
    assert found.errors == [] and found.warnings == []
    [task] = found.valid_tasks
    assert (task.name, task.function, task.form) == ("send_email", "send_email", "idflow")
    assert {"retry_count", "timeout_seconds", "timeout_policy", "retry_logic", "retry_delay_seconds",
            "response_timeout_seconds", "concurrent_exec_limit", "rate_limit_frequency_in_seconds",
            "rate_limit_per_frequency"} <= set(task.keywords)
    # The description on the server says what the code does: never a placeholder or an input schema.
    assert task.task_def["description"] == "Returns its input text as the result."
    spec = importlib.util.spec_from_file_location("scaffolded_send_email", folder / "send_email.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.send_email(text="hi") == {"result": "hi"}
    assert module.send_email.__idflow_task_def__ == task.task_def


def test_new_task_json(project, capsys):
    code, out, err = run(capsys, "tasks", "new", "jsoned", "--json")
    assert code == 0
    assert json.loads(out) == {"task": "jsoned", "created": ["idflow/tasks/jsoned/__init__.py",
                                                              "idflow/tasks/jsoned/jsoned.py",
                                                              "idflow/tasks/jsoned/requirements.txt"]}


def test_new_task_refuses_to_overwrite(project, capsys):
    assert run(capsys, "tasks", "new", "twice")[0] == 0
    path = project / "idflow/tasks/twice/twice.py"
    path.write_text("# edited\n")
    code, out, err = run(capsys, "tasks", "new", "twice", "--json")
    assert code == 3 and path.read_text() == "# edited\n"
    assert json.loads(out)["error"]["type"] == "RefusedError" and "already exists" in err


def test_new_task_refuses_a_name_used_elsewhere(project, capsys):
    other = project / "idflow/tasks/other"
    other.mkdir(parents=True)
    (other / "other.py").write_text("from idflow import worker_task\n@worker_task('taken')\ndef f(): pass\n")
    code, _, err = run(capsys, "tasks", "new", "taken")
    assert code == 3 and "already exists" in err and not (project / "idflow/tasks/taken").exists()


@pytest.mark.parametrize("name", ["1abc", "with-dash", "class", "a b", "../escape", ""])
def test_new_task_rejects_bad_names(project, capsys, name):
    code, _, err = run(capsys, "tasks", "new", name)
    assert code == 2 and "identifier" in err
    assert not (project / "idflow/tasks").exists()


def test_new_task_honours_tasks_dir_flag(project, capsys):
    assert run(capsys, "--tasks-dir", "elsewhere", "tasks", "new", "moved")[0] == 0
    assert (project / "elsewhere/moved/moved.py").is_file()


def test_render_files_are_pure():
    files = render("alpha")
    assert list(files) == ["alpha/__init__.py", "alpha/alpha.py", "alpha/requirements.txt"]
    assert "from idflow import worker_task" in files["alpha/alpha.py"]
    compile(files["alpha/alpha.py"], "alpha.py", "exec")


def test_subprocess_entry_point(tmp_path):
    code = "import sys; from idflow.cli.app import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, "tasks", "new", "via_subprocess", "--json"], cwd=tmp_path,
                            capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["task"] == "via_subprocess"


def rendered(discovery, verbose: bool) -> str:
    console = Console(record=True, width=240, color_system=None)
    render_local(console, discovery, verbose)
    return console.export_text()


def test_render_local_table_and_issues(monkeypatch):
    monkeypatch.chdir(REPO)
    text = rendered(discover("tests/corpus/tasks"), verbose=False)
    for fragment in ("bom", "tests/corpus/tasks/bom/bom.py:4", "4 (every 60s)", "none / 3600s", "TIME_OUT_WF / FIXED",
                     "error tests/corpus/tasks/syntax_error/syntax_error.py:4: syntax error",
                     "error tests/corpus/tasks/empty_dir: task dir 'empty_dir'",
                     "warning tests/corpus/tasks/seed_form/seed_form.py:4", "wrong_type (invalid)"):
        assert fragment in text, fragment
    assert '"task_def"' not in text


def test_render_local_verbose_and_values(monkeypatch):
    monkeypatch.chdir(REPO)
    text = rendered(discover("idflow/tasks"), verbose=True)
    for fragment in ("my_task", "idflow/tasks/my_task/my_task.py:14", "3 (every 60s)", "1200s / 600s",
                     "100 per 60s", "10", '"retryCount": 3', '"requirements": []', '"module": "idflow.tasks.greet.greet"'):
        assert fragment in text, fragment
    assert "error" not in text
