"""Run the idflow CLI in-process and capture what it printed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


# Environment variables that beat a test project's own config/idflow.yml: every project test clears them.
PROJECT_ENV = ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "IDFLOW_WORKFLOWS_DIR", "IDFLOW_STATE_DIR", "IDFLOW_ENV",
               "CONDUCTOR_SERVER_URL", "CONDUCTOR_API_KEY", "CONDUCTOR_AUTH_KEY", "CONDUCTOR_AUTH_SECRET")


def run_cli(capsys, *argv: str) -> Run:
    from idflow.cli.app import main

    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def task_source(name: str, **keywords: Any) -> str:
    """A task file in the idflow form with the given TaskDef keywords."""
    args = ", ".join([f"task_definition_name={name!r}"] + [f"{k}={v!r}" for k, v in keywords.items()])
    return (f"from idflow import worker_task\n\n\n@worker_task({args})\n"
            f"def {name.replace('-', '_')}(task_input) -> dict:\n"
            f"    \"\"\"Task {name} for tests.\"\"\"\n    return {{'ok': True}}\n")
