"""A repository laid out like ID Flow's: task folders with tests and READMEs, a file with two tasks,
nested workflow folders and event_handlers.json. Everything lists, nothing is a false error."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from idflow.discovery import discover
from idflow.workflowdefs.files import load_workflow_files, unknown_tasks
from tests.clihelp import run_cli

TASK = """
from idflow import worker_task
from .helpers import clean


@worker_task(task_definition_name={name!r}, retry_count=2, timeout_seconds=120, response_timeout_seconds=60)
def {name}(text: str, top_n: int = 10) -> dict:
    \"\"\"One of ID Flow's tasks.\"\"\"
    return {{"text": clean(text)[:top_n]}}
"""
TWO_TASKS = """
from conductor.client.worker.worker_task import worker_task


@worker_task(task_definition_name={first!r})
def {first}(task_input):
    return {{"first": task_input.get("x")}}


@worker_task(task_definition_name={second!r})
def {second}(task_input: dict) -> dict:
    return {{"second": task_input.get("x")}}
"""
TEST_FILE = """
import pytest
from idflow import worker_task

from .{name} import {name}


def test_{name}_directly():
    assert {name}("  abc ", top_n=2) == {{"text": "ab"}}


def test_{name}_defined_in_a_test():
    @worker_task(task_definition_name="defined_in_a_test")
    def inner(task_input):
        return task_input
    assert inner({{"a": 1}}) == {{"a": 1}}
"""
HANDLERS = [{"name": "on_done", "event": "conductor:{wf}:done", "condition": "true", "active": True,
             "actions": [{"action": "start_workflow", "start_workflow": {"name": "{wf}"}}]}]


def build_repo(root: Path, prefix: str) -> dict:
    """The ID Flow layout under root; returns the task and workflow names it holds."""
    tasks_dir, workflows_dir = root / "idflow" / "tasks", root / "idflow" / "workflows"
    singles = [prefix + "keyword_extract", prefix + "summarize"]
    first, second = prefix + "split_text", prefix + "join_text"
    for name in singles:
        folder = tasks_dir / name
        (folder / "__pycache__").mkdir(parents=True)
        (folder / "__init__.py").touch()
        (folder / f"{name}.py").write_text(textwrap.dedent(TASK.format(name=name)))
        (folder / "helpers.py").write_text("def clean(text):\n    return text.strip()\n")
        (folder / f"test_{name}.py").write_text(textwrap.dedent(TEST_FILE.format(name=name)))
        (folder / "README.md").write_text(f"# {name}\n\nExtracts things.\n")
        (folder / "requirements.txt").write_text("pyyaml\n")
        (folder / "__pycache__" / f"{name}.cpython-311.pyc").write_bytes(b"\x00junk")
    folder = tasks_dir / "text_tools"
    folder.mkdir()
    (folder / "__init__.py").touch()
    (folder / "text_tools.py").write_text(textwrap.dedent(TWO_TASKS.format(first=first, second=second)))
    (folder / "README.md").write_text("# two tasks in one file\n")
    (tasks_dir / "__init__.py").touch()
    (root / "idflow" / "__init__.py").touch()

    wf_main, wf_fork = prefix + "extract_flow", prefix + "fork_flow"
    main = {"name": wf_main, "version": 1, "tasks": [
        {"name": singles[0], "taskReferenceName": "kw", "inputParameters": {"text": "${workflow.input.text}"}},
        {"name": singles[1], "taskReferenceName": "sum", "type": "SIMPLE"}]}
    fork = {"name": wf_fork, "version": 1, "tasks": [
        {"name": first, "taskReferenceName": "split"},
        {"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN", "forkTasks": [
            [{"name": second, "taskReferenceName": "join"}],
            [{"name": "noop", "taskReferenceName": "noop", "type": "NOOP"},
             {"name": prefix + "not_in_any_layer", "taskReferenceName": "missing"}]]},
        {"name": "join", "taskReferenceName": "join_all", "type": "JOIN", "joinOn": ["join", "missing"]}]}
    for definition, nested in ((main, "extract"), (fork, "pipelines/fork")):
        where = workflows_dir / nested / definition["name"]
        where.mkdir(parents=True)
        (where / f"{definition['name']}.json").write_text(json.dumps(definition, indent=2))
        handlers = json.loads(json.dumps(HANDLERS).replace("{wf}", definition["name"]))
        (where / "event_handlers.json").write_text(json.dumps(handlers, indent=2))
    return {"tasks": sorted(singles + [first, second]), "workflows": sorted([wf_main, wf_fork]),
            "unknown": prefix + "not_in_any_layer"}


def test_discovery_reads_task_folders_as_id_flow_lays_them_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = build_repo(tmp_path, "")
    found = discover("idflow/tasks")
    assert sorted(t.name for t in found.tasks) == names["tasks"]
    assert found.errors == [] and found.warnings == []
    assert {t.path for t in found.tasks if t.name in ("split_text", "join_text")} == {
        "idflow/tasks/text_tools/text_tools.py"}


@pytest.mark.parametrize("filename,is_task", [("test_extra.py", True), ("helpers_task.py", True),
                                              ("test_plain.py", False)])
def test_a_decorated_function_is_a_task_whatever_its_file_name(tmp_path, monkeypatch, filename, is_task):
    monkeypatch.chdir(tmp_path)
    build_repo(tmp_path, "")
    source = ("from idflow import worker_task\n\n\n@worker_task(task_definition_name='extra')\n"
              "def extra(task_input):\n    return task_input\n") if is_task else "def test_nothing():\n    pass\n"
    (tmp_path / "idflow/tasks/keyword_extract" / filename).write_text(source)
    found = discover("idflow/tasks")
    assert ("extra" in {t.name for t in found.tasks}) is is_task
    assert found.errors == []


def test_a_task_defined_inside_a_function_of_a_task_file_is_a_warning_not_a_task(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_repo(tmp_path, "")
    (tmp_path / "idflow/tasks/keyword_extract/factory.py").write_text(
        "from idflow import worker_task\n\n\ndef make():\n    @worker_task(task_definition_name='made')\n"
        "    def made(task_input):\n        return task_input\n    return made\n")
    found = discover("idflow/tasks")
    assert "made" not in {t.name for t in found.tasks} and found.errors == []
    [warning] = found.warnings
    assert warning.path.endswith("factory.py") and "registered only when that function runs" in warning.message


def test_event_handlers_json_is_not_a_workflow_file(tmp_path):
    names = build_repo(tmp_path, "")
    workflows, issues = load_workflow_files(tmp_path / "idflow" / "workflows")
    assert issues == [] and sorted(w.definition["name"] for w in workflows) == names["workflows"]
    # Skipped by name: the same list under another name is still reported.
    handlers = next((tmp_path / "idflow" / "workflows").rglob("event_handlers.json"))
    (handlers.parent / "handlers.json").write_text(handlers.read_text())
    _, issues = load_workflow_files(tmp_path / "idflow" / "workflows")
    assert [i.path.endswith("handlers.json") for i in issues] == [True]


def test_unknown_tasks_are_named_with_file_and_json_path(tmp_path):
    names = build_repo(tmp_path, "")
    workflows, _ = load_workflow_files(tmp_path / "idflow" / "workflows")
    [warning] = unknown_tasks(workflows, set(names["tasks"]))
    assert (warning.task, warning.where, warning.workflow) == (names["unknown"], "tasks[1].forkTasks[1][1]",
                                                               "fork_flow")
    assert warning.path.endswith("idflow/workflows/pipelines/fork/fork_flow/fork_flow.json")


@pytest.mark.server
def test_the_cli_lists_everything_and_uploads_tasks_despite_the_warning(project, prefix, capsys):
    names = build_repo(project.root, prefix)
    tasks = run_cli(capsys, "--json", "tasks", "list", "--local")
    assert tasks.code == 0, tasks.err
    assert sorted(t["name"] for t in tasks.json["tasks"]) == names["tasks"]
    assert tasks.json["errors"] == [] and tasks.json["warnings"] == []

    flows = run_cli(capsys, "--json", "workflows", "list", "--local")
    assert flows.code == 0, flows.err
    assert sorted(w["name"] for w in flows.json["workflows"]) == names["workflows"]
    assert flows.json["errors"] == []
    [warning] = flows.json["warnings"]
    assert (warning["task"], warning["where"]) == (names["unknown"], "tasks[1].forkTasks[1][1]")
    assert warning["path"].endswith(f"{prefix}fork_flow.json")

    text = run_cli(capsys, "workflows", "list", "--local")
    assert text.code == 0 and "warning" in text.out and "error" not in text.out

    uploaded = run_cli(capsys, "--json", "tasks", "upload", "--all")
    assert uploaded.code == 0, uploaded.err
    assert sorted(uploaded.json["created"]) == names["tasks"]
