"""`tasks diff --out` and `tasks backup --out` pointing where no file can be written: a clear
error (exit 1, FileWriteError) naming the path, never an internal error, and no file left behind."""
from __future__ import annotations

import pytest

from tests.clihelp import run_cli

pytestmark = pytest.mark.server

TARGETS = {
    "a directory": ("outdir", "it is a directory"),
    "a missing parent": ("missing/out.json", "does not exist"),
    "a parent that is a file": ("afile/out.json", "is not a directory"),
}
COMMANDS = {"diff": ["tasks", "diff"], "backup": ["tasks", "backup"]}


@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
@pytest.mark.parametrize("target", TARGETS, ids=[t.replace(" ", "-") for t in TARGETS])
def test_an_out_path_that_cannot_be_a_file_is_a_clear_error(project, capsys, command, target):
    (project.root / "outdir").mkdir()
    (project.root / "afile").write_text("not a folder\n")
    relative, reason = TARGETS[target]
    before = sorted(p.relative_to(project.root) for p in project.root.rglob("*"))
    result = run_cli(capsys, *COMMANDS[command], "--out", relative, "--json")
    assert result.code == 1, result.out + result.err
    error = result.json["error"]
    assert error["type"] == "FileWriteError" and reason in error["message"] and relative in error["message"]
    assert "internal error" not in result.err and error["hint"]
    after = sorted(p.relative_to(project.root) for p in project.root.rglob("*") if ".idflow" not in p.parts)
    assert after == [p for p in before if ".idflow" not in p.parts]       # no partial or temp file anywhere
