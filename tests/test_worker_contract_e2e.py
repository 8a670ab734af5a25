"""Every worker form end to end: task files -> upload -> `idflow worker start` -> `workflow run --wait --json`.

One project and one worker process for the module (starting a worker costs seconds); each
form has its own task and workflow, and each test runs its workflow and checks that the
output echoes the input.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.clihelp import PROJECT_ENV, run_cli
from tests.test_worker import WorkerProcess

REPO = Path(__file__).resolve().parent.parent
SDK_IMPORT = "from conductor.client.worker.worker_task import worker_task\n"
IDFLOW_IMPORT = "from idflow import worker_task\n"


@dataclass(frozen=True)
class Form:
    key: str
    header: str       # imports
    signature: str    # `def NAME(...)` after the name
    body: str
    given: dict       # the workflow input, passed to the task key by key
    output: dict      # the workflow's (= the task's) output
    status: str = "COMPLETED"


FORMS = [
    Form("sdk_unannotated", SDK_IMPORT, "(task_input)", "return {'echo': task_input, 'text': task_input.get('text')}",
         {"text": "a"}, {"echo": {"text": "a"}, "text": "a"}),
    Form("idflow_dict", IDFLOW_IMPORT, "(task_input: dict) -> dict", "return {'echo': task_input}",
         {"text": "b", "n": 2}, {"echo": {"text": "b", "n": 2}}),
    Form("mapping", IDFLOW_IMPORT + "from typing import Any, Mapping\n", "(data: Mapping[str, Any]) -> dict",
         "return {'echo': dict(data)}", {"text": "c"}, {"echo": {"text": "c"}}),
    Form("future_dict", "from __future__ import annotations\n" + SDK_IMPORT, "(task_input: dict) -> dict",
         "return {'echo': task_input}", {"text": "d"}, {"echo": {"text": "d"}}),
    Form("task", IDFLOW_IMPORT + "from conductor.client.http.models.task import Task\n", "(task: Task) -> dict",
         "return {'echo': task.input_data, 'has_id': bool(task.task_id)}", {"text": "e"},
         {"echo": {"text": "e"}, "has_id": True}),
    Form("keyword_extract", IDFLOW_IMPORT, "(text: str, top_n: int = 10, lang: str = 'en') -> dict",
         "return {'text': text, 'top_n': top_n, 'lang': lang}", {"text": "f", "top_n": 3},
         {"text": "f", "top_n": 3, "lang": "en"}),
    Form("single_str", SDK_IMPORT, "(text: str) -> dict", "return {'echo': text}", {"text": "g"}, {"echo": "g"}),
    Form("kwargs", IDFLOW_IMPORT, "(text: str, **rest) -> dict", "return {'text': text, 'rest': rest}",
         {"text": "h", "k": [1]}, {"text": "h", "rest": {"k": [1]}}),
    Form("async_def", IDFLOW_IMPORT + "import asyncio\n", "(text: str) -> dict",
         "await asyncio.sleep(0.01)\n    return {'echo': text}", {"text": "i"}, {"echo": "i"}),
    Form("returns_list", IDFLOW_IMPORT, "(text: str)", "return [text, text.upper()]", {"text": "j"},
         {"result": ["j", "J"]}),
    Form("returns_scalar", IDFLOW_IMPORT, "(text: str)", "return len(text)", {"text": "kkk"}, {"result": 3}),
    Form("returns_string", IDFLOW_IMPORT, "(text: str)", "return text * 2", {"text": "l"}, {"result": "ll"}),
    Form("returns_none", IDFLOW_IMPORT, "(text: str)", "return None", {"text": "m"}, {}),
    Form("missing_key", IDFLOW_IMPORT, "(text: str, needed: int) -> dict", "return {}", {"text": "n"}, {},
         "FAILED"),
]


def task_source(name: str, form: Form) -> str:
    options = "retry_count=0, timeout_seconds=60, response_timeout_seconds=30" if "idflow" in form.header else ""
    decorator = (f"@worker_task(task_definition_name={name!r}, {options})" if options
                 else f"@worker_task(task_definition_name={name!r})")
    prefix = "async " if form.key == "async_def" else ""
    return f"{form.header}\n\n{decorator}\n{prefix}def {name}{form.signature}:\n    {form.body}\n"


def workflow(name: str, task: str, keys) -> dict:
    return {"name": name, "version": 1, "schemaVersion": 2, "timeoutSeconds": 60, "timeoutPolicy": "TIME_OUT_WF",
            "tasks": [{"name": task, "taskReferenceName": "t", "type": "SIMPLE",
                       "inputParameters": {k: f"${{workflow.input.{k}}}" for k in keys}}]}


@dataclass
class Running:
    root: Path
    prefix: str
    worker: WorkerProcess


def _cleanup(conductor_url: str, prefix: str) -> None:
    from idflow.conductor.client import ConductorClient
    from idflow.base.errors import NotFound

    with ConductorClient(conductor_url) as client:
        for wf in client.list_workflows():
            if str(wf.get("name", "")).startswith(prefix):
                try:
                    client.delete_workflow(wf["name"], wf.get("version", 1))
                except NotFound:
                    pass
        for td in client.list_taskdefs():
            if str(td.get("name", "")).startswith(prefix):
                try:
                    client.delete_taskdef(td["name"])
                except NotFound:
                    pass


def readme_task_source() -> str:
    """The README's task example, exactly as written but for the task name (the server is shared)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Writing a task", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def running(conductor_url: str, tmp_path_factory) -> Iterator[Running]:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    root = tmp_path_factory.mktemp("contract") / "project"
    tasks_dir, workflows_dir = root / "idflow" / "tasks", root / "idflow" / "workflows"
    for folder in (tasks_dir, workflows_dir, root / "config"):
        folder.mkdir(parents=True)
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor_url}\nproject: {prefix}contract\n")
    sources = {prefix + f.key: (task_source(prefix + f.key, f), f.given) for f in FORMS}
    readme = prefix + "readme"
    sources[readme] = (readme_task_source().replace('"my_task"', repr(readme)), {"input": "test"})
    for name, (source, given) in sources.items():
        folder = tasks_dir / name
        folder.mkdir()
        (folder / "__init__.py").touch()
        (folder / f"{name}.py").write_text(source)
        (workflows_dir / f"{name}.json").write_text(json.dumps(workflow(name + "_wf", name, given)))
    with pytest.MonkeyPatch.context() as mp:
        for env in PROJECT_ENV:
            mp.delenv(env, raising=False)
        mp.chdir(root)
        try:
            for command in (("tasks", "upload", "--all", "--json"), ("workflows", "upload", "--all", "--json")):
                done = _cli(*command)
                assert done.code == 0, (command, done.out, done.err)
            with WorkerProcess(root, "--all") as worker:
                worker.wait_for("polling", timeout=60)
                yield Running(root, prefix, worker)
                code, _ = worker.stop()
                assert code == 0, worker.err
        finally:
            _cleanup(conductor_url, prefix)


def _cli(*argv: str):
    """run_cli without capsys (a module-scoped fixture cannot have it): output into buffers."""
    import contextlib
    import io

    from idflow.cli.app import main
    from tests.clihelp import Run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.mark.server
@pytest.mark.parametrize("form", FORMS, ids=[f.key for f in FORMS])
def test_each_form_runs_in_a_real_workflow_and_echoes_its_input(running, form, capsys):
    done = run_cli(capsys, "workflow", "run", running.prefix + form.key + "_wf", "--input", json.dumps(form.given),
                   "--wait", "--timeout", "30", "--json")
    doc = done.json
    assert doc["status"] == form.status, (doc, running.worker.err[-3000:])
    if form.status == "COMPLETED":
        assert done.code == 0 and doc["output"] == form.output
    else:
        [failed] = doc["failedTasks"]
        assert done.code == 1 and failed["status"] == "FAILED_WITH_TERMINAL_ERROR"
        assert "no key 'needed'" in failed["reasonForIncompletion"]


@pytest.mark.server
def test_readme_task_example_runs_as_written(running, capsys):
    given = {"input": "test", "n": 1}
    done = run_cli(capsys, "workflow", "run", running.prefix + "readme_wf", "--input", json.dumps(given),
                   "--wait", "--timeout", "30", "--json")
    assert done.code == 0, (done.out, running.worker.err[-3000:])
    assert done.json["output"] == {"result": {"input": "test"}}  # the workflow passes on the `input` key only
    namespace: dict = {}
    exec(compile(readme_task_source(), "README.md", "exec"), namespace)  # and it stays directly callable
    assert namespace["my_task"]({"input": "test"}) == {"result": {"input": "test"}}
