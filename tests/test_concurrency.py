"""Two uploads at once end with the server holding exactly the planned definitions."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server


def test_two_concurrent_upload_all_runs_converge(project, prefix, client, capsys):
    names = [f"{prefix}c{i:02d}" for i in range(40)]
    for i, name in enumerate(names):
        project.write_task(name, task_source(name, retry_count=i % 5, timeout_seconds=100 + i))
    project.config_path.write_text(project.config_path.read_text() + "batch_size: 7\n")
    command = [sys.executable, "-P", "-c", "from idflow.cli.app import run; run()", "tasks", "upload", "--all", "--json"]
    env = {k: v for k, v in os.environ.items() if k != "CONDUCTOR_SERVER_URL"}
    runs = [subprocess.Popen(command, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    # communicate, not wait-then-read: a child whose output fills the pipe blocks (it hung against 3.21.14).
    outputs = [p.communicate(timeout=120) for p in runs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(runs, outputs)]
    for code, out, err in results:
        assert code == 0, err
        doc = json.loads(out)
        assert doc["failed"] == [] and sorted(doc["created"] + doc["updated"] + doc["unchanged"]) == names
    server = {d["name"]: d for d in client.list_taskdefs() if d["name"].startswith(prefix)}
    assert sorted(server) == names
    assert [server[n]["retryCount"] for n in names] == [i % 5 for i in range(40)]
    assert [server[n]["timeoutSeconds"] for n in names] == [100 + i for i in range(40)]
    assert run_cli(capsys, "tasks", "diff").code == 0
