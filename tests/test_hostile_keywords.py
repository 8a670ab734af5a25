"""Decorator keywords no TaskDef can hold, in every spelling discovery reads: a clear error for the task,
and every --json output stays one JSON document (a 5,000-digit int made json.dumps raise)."""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli

VALUES = {
    "hex 5000 digits": ("0x" + "F" * 5000, "too large"),
    "octal": ("0o" + "7" * 6000, "too large"),
    "product": ("(2 ** 64) * (2 ** 64)", "too large"),
    "constant": ("BIG", "too large"),
    "inf literal": ("1e999", "not a finite number"),
    "minus inf": ("-1e999", "not a finite number"),
    "inf product": ("1e308 * 10", "not a finite number"),
}


@pytest.mark.parametrize("case", sorted(VALUES))
@pytest.mark.parametrize("argv", [("tasks", "list", "--local", "--json"), ("tasks", "upload", "--all", "--json"),
                                  ("tasks", "diff", "--json")], ids=["list", "upload", "diff"])
def test_a_keyword_too_large_or_not_finite_is_an_error_not_a_crash(tmp_path, monkeypatch, capsys, case, argv):
    value, fragment = VALUES[case]
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "idflow" / "tasks" / "big"
    folder.mkdir(parents=True)
    (folder / "big.py").write_text(f"from idflow import worker_task\nBIG = 0x{'E' * 5000}\n\n\n"
                                   f"@worker_task(task_definition_name='big', retry_count={value})\n"
                                   "def big(x):\n    return {}\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "idflow.yml").write_text("project: p\nconductor_server_url: http://127.0.0.1:9/api\n")
    done = run_cli(capsys, *argv)
    text = " ".join((done.out + done.err).split())
    assert done.code == 1 and "internal error" not in text, text
    assert fragment in text and "big.py" in text, text
    if "--json" in argv:
        json.loads(done.out)
