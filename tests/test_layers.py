"""Layered task sources (`tasks_dirs:`): later layers override earlier ones, as in ID Flow's resource overlay."""
from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest

from idflow.project.config import load_config
from idflow.discovery import discover_layers, task_layers
from idflow.base.errors import ConfigError
from tests.clihelp import run_cli


def task_file(name: str, marker: str, function: str | None = None) -> str:
    return textwrap.dedent(f"""
        from idflow import worker_task


        @worker_task(task_definition_name={name!r}, retry_count=1)
        def {function or name}(task_input: dict) -> dict:
            return {{"from": {marker!r}}}
    """).lstrip()


def write(root: Path, layer: str, folder: str, source: str, filename: str | None = None) -> Path:
    path = root / layer / folder / (filename or f"{folder}.py")
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "__init__.py").touch()
    path.write_text(source)
    return path


@pytest.fixture
def layered(tmp_path, monkeypatch) -> Path:
    """pkg/tasks (a package's own), vendor/tasks, idflow/tasks (the project's)."""
    monkeypatch.chdir(tmp_path)
    for name, layers in {"shared": ("pkg", "vendor", "idflow"), "pkg_only": ("pkg",), "vendored": ("vendor", "idflow"),
                         "own": ("idflow",)}.items():
        for layer in layers:
            write(tmp_path, f"{layer}/tasks", name, task_file(name, layer))
    return tmp_path


LAYERS = ["pkg/tasks", "vendor/tasks", "idflow/tasks"]


def test_a_later_layer_overrides_an_earlier_one_without_a_duplicate_error(layered):
    found = discover_layers(LAYERS)
    assert found.errors == [] and found.warnings == []
    by_name = {t.name: t for t in found.tasks}
    assert sorted(by_name) == ["own", "pkg_only", "shared", "vendored"]
    assert {n: t.layer for n, t in by_name.items()} == {"shared": "idflow/tasks", "pkg_only": "pkg/tasks",
                                                         "vendored": "idflow/tasks", "own": "idflow/tasks"}
    assert by_name["shared"].overrides == ("vendor/tasks/shared/shared.py:4", "pkg/tasks/shared/shared.py:4")
    assert by_name["vendored"].overrides == ("vendor/tasks/vendored/vendored.py:4",)
    assert by_name["pkg_only"].overrides == () and by_name["own"].overrides == ()
    assert found.valid_tasks == found.tasks  # nothing counts as a duplicate


def test_override_order_is_the_list_order(layered):
    found = discover_layers(list(reversed(LAYERS)))
    assert {t.name: t.layer for t in found.tasks}["shared"] == "pkg/tasks"


def test_two_files_in_one_layer_defining_a_name_are_still_an_error(layered):
    write(layered, "vendor/tasks", "other", task_file("vendored", "vendor-again", function="other"))
    found = discover_layers(LAYERS)
    [error] = found.errors
    assert "'vendored' is defined twice" in error.message and error.path.startswith("vendor/tasks/")
    # the project's layer still overrides both
    assert [t.layer for t in found.tasks if t.name == "vendored"] == ["idflow/tasks"]


def test_cache_serves_every_layer_and_is_one_file(layered, monkeypatch):
    from idflow.discovery import walk as discovery_fs

    cache = layered / ".idflow" / "cache"
    cold = discover_layers(LAYERS, cache_dir=cache)
    assert len(list(cache.glob("discovery-*.json"))) == 1
    calls = []
    monkeypatch.setattr(discovery_fs, "_parse", lambda data: calls.append(data))
    warm = discover_layers(LAYERS, cache_dir=cache)
    assert calls == [] and warm.to_json() == cold.to_json()


def test_task_layers_from_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").mkdir()
    path = tmp_path / "config" / "idflow.yml"
    path.write_text("tasks_dirs: [pkg/tasks, vendor/tasks]\n")
    assert task_layers(load_config()) == [tmp_path / "pkg/tasks", tmp_path / "vendor/tasks", tmp_path / "idflow/tasks"]
    path.write_text("tasks_dirs: [pkg/tasks, idflow/tasks, vendor/tasks]\n")
    assert [p.name for p in task_layers(load_config())] == ["tasks"] * 3
    assert task_layers(load_config())[-1] == tmp_path / "vendor/tasks"  # listed: its place is kept
    path.write_text("tasks_dir: own\n")
    assert task_layers(load_config()) == [tmp_path / "own"]
    for bad in ("tasks_dirs: pkg/tasks\n", "tasks_dirs: [pkg/tasks, 3]\n", "tasks_dirs: [\"\"]\n"):
        path.write_text(bad)
        with pytest.raises(ConfigError, match="tasks_dirs"):
            load_config()


@pytest.mark.parametrize("json_", [True, False], ids=["json", "table"])
def test_tasks_list_local_shows_layer_and_overrides(layered, capsys, json_):
    (layered / "config").mkdir()
    (layered / "config" / "idflow.yml").write_text("tasks_dirs: [pkg/tasks, vendor/tasks, idflow/tasks]\n")
    done = run_cli(capsys, "--json", "tasks", "list", "--local") if json_ else \
        run_cli(capsys, "tasks", "list", "--local")
    assert done.code == 0, done.err
    if json_:
        rows = {t["name"]: (t["layer"], t["overrides"]) for t in done.json["tasks"]}
        assert rows["shared"] == ("idflow/tasks", ["vendor/tasks/shared/shared.py:4", "pkg/tasks/shared/shared.py:4"])
        assert rows["pkg_only"] == ("pkg/tasks", []) and done.json["errors"] == []
    else:
        text = "".join(done.out.split()).replace("│", "")  # rich folds long cells over several lines
        assert "Layer" in text and "Overrides" in text
        assert "vendor/tasks/vendored/vendored.py:4" in text


def test_the_worker_runs_the_overriding_layer(layered):
    from conductor.client.http.models.task import Task

    from idflow.worker.loading import import_task_modules, select_tasks
    from idflow.worker.pool import registered_workers

    name = f"t_layer_{uuid.uuid4().hex[:8]}"
    for layer in ("pkg", "idflow"):
        write(layered, f"{layer}/tasks", name, task_file(name, layer))
    found = discover_layers(LAYERS)
    tasks = select_tasks(found, [name], all_tasks=False)
    assert [t.layer for t in tasks] == ["idflow/tasks"]
    assert import_task_modules(tasks, layered) == []
    [worker] = registered_workers([name])
    result = worker.execute(Task(task_id="t", workflow_instance_id="w", task_def_name=name, input_data={}))
    assert result.output_data == {"from": "idflow"}
