"""`tasks new NAME` refuses exactly the names idflow itself would reject later.

A scaffold whose name discovery or validation rejects blocks every later
`upload --all`, so the rule is checked against discovery itself: for every name
that can be a file, `tasks new` accepts it if and only if discovery accepts the
scaffold it would write.
"""
from __future__ import annotations

import os

import pytest

from idflow.discovery import discover
from idflow.taskdefs.scaffold import DESCRIPTION, TASK_TEMPLATE, check_name
from tests.clihelp import run_cli

BAD_NAMES = [
    "über", "naïve_task", "ﬁle",            # non-ASCII identifiers (the last one is NFKC "file")
    "task\u202eevil", "x\x1b[2J", "tab\there", "a b",  # controls, bidi override, whitespace
    "send-email", "a.b", "a:b", "a/b", "../up", ".hidden",  # valid TaskDef names, not modules
    "1st", "", "class", "None", "async",    # not identifiers / keywords
    "__pycache__",                          # discovery skips it
    "n" * 253, "n" * 300,                   # NAME.py longer than a file name
]
GOOD_NAMES = ["send_email", "_private", "A1", "x", "n" * 252]


@pytest.fixture
def empty_project(tmp_path, monkeypatch):
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "IDFLOW_STATE_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "idflow" / "tasks").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("name", BAD_NAMES)
def test_tasks_new_refuses_names_idflow_rejects_and_writes_nothing(empty_project, capsys, name):
    result = run_cli(capsys, "--json", "tasks", "new", name)
    assert result.code == 2, result.out + result.err
    assert result.json["error"]["type"] == "InvalidTaskName"
    assert "internal error" not in result.out + result.err
    assert "\x1b" not in result.err and "\u202e" not in result.err  # shown as repr, never raw
    assert os.listdir(empty_project / "idflow" / "tasks") == []


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_tasks_new_accepts_and_discovery_agrees(empty_project, capsys, name):
    result = run_cli(capsys, "--json", "tasks", "new", name)
    assert result.code == 0, result.err
    found = discover(empty_project / "idflow" / "tasks")
    assert found.errors == [] and [t.name for t in found.valid_tasks] == [name]


def _discovery_accepts(root, name: str) -> bool:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / f"{name}.py").write_text(TASK_TEMPLATE.format(name=name, description=DESCRIPTION), encoding="utf-8")
    found = discover(root)
    return not found.errors and [t.name for t in found.valid_tasks] == [name]


def _can_be_a_file(name: str) -> bool:
    return bool(name) and "/" not in name and not name.startswith(".") and len(name.encode()) + 3 <= 255


@pytest.mark.parametrize("name", [n for n in BAD_NAMES + GOOD_NAMES if _can_be_a_file(n)])
def test_the_name_rule_is_discoverys_rule(tmp_path, name):
    try:
        check_name(name)
        accepted = True
    except Exception:
        accepted = False
    assert accepted == _discovery_accepts(tmp_path, name)
