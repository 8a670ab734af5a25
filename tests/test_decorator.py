"""`from idflow import worker_task`, the example tasks as real workers, and static == runtime."""
from __future__ import annotations

import asyncio
import importlib.util
import inspect
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from idflow.worker.decorator import worker_task
from idflow.discovery import discover

REPO = Path(__file__).resolve().parent.parent


def registered(name: str) -> dict:
    from conductor.client.automator.task_handler import _decorated_functions

    return _decorated_functions[(name, None)]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_direct_call_and_taskdef_built():
    name = unique("dec")

    @worker_task(task_definition_name=name, retry_count=5, timeout_seconds=1200, timeout_policy="RETRY",
                 retry_logic="LINEAR_BACKOFF", retry_delay_seconds=7, response_timeout_seconds=600,
                 concurrent_exec_limit=2, rate_limit_frequency_in_seconds=10, rate_limit_per_frequency=3,
                 thread_count=2)
    def my_task(task_input):
        """Echo.

        More text."""
        return {"result": task_input["input"]}

    assert my_task({"input": "test"}) == {"result": "test"}
    wire = my_task.__idflow_task_def__
    assert wire == {"name": name, "retryCount": 5, "timeoutSeconds": 1200, "timeoutPolicy": "RETRY",
                    "retryLogic": "LINEAR_BACKOFF", "retryDelaySeconds": 7, "responseTimeoutSeconds": 600,
                    "concurrentExecLimit": 2, "rateLimitFrequencyInSeconds": 10, "rateLimitPerFrequency": 3,
                    "backoffScaleFactor": 1, "totalTimeoutSeconds": 0, "description": "Echo."}
    record = registered(name)
    sdk_def = record["task_def"]
    assert type(sdk_def).__name__ == "TaskDef"
    assert (sdk_def.name, sdk_def.retry_count, sdk_def.timeout_seconds, sdk_def.timeout_policy) == (name, 5, 1200, "RETRY")
    assert (sdk_def.retry_logic, sdk_def.retry_delay_seconds, sdk_def.response_timeout_seconds) == ("LINEAR_BACKOFF", 7, 600)
    assert (sdk_def.concurrent_exec_limit, sdk_def.rate_limit_frequency_in_seconds, sdk_def.rate_limit_per_frequency) \
        == (2, 10, 3)
    assert record["register_task_def"] is False and record["thread_count"] == 2
    assert record["func"] is my_task.__wrapped__


def test_register_task_def_only_when_asked():
    name = unique("reg")
    worker_task(name, register_task_def=True)(lambda: None)
    assert registered(name)["register_task_def"] is True


def test_positional_bare_and_async_forms():
    name = unique("pos")

    @worker_task(name, 250)  # second positional: poll_interval_millis, as in the SDK
    async def async_task(value: int = 1) -> dict:
        return {"value": value}

    assert asyncio.run(async_task(4)) == {"value": 4}
    assert registered(name)["poll_interval"] == 250

    @worker_task
    def bare_task_for_tests():
        return 1

    assert bare_task_for_tests() == 1 and bare_task_for_tests.__idflow_task_def__["name"] == "bare_task_for_tests"


@pytest.mark.parametrize("call,fragment", [
    (lambda: worker_task("x", retry_cnt=3), "unexpected keyword argument 'retry_cnt'"),
    (lambda: worker_task("x", retryCount=3), "unexpected keyword argument 'retryCount'"),
    (lambda: worker_task("x", retry_count="5"), "retry_count must be a whole number"),
    (lambda: worker_task(5), "task_definition_name must be a string"),
    (lambda: worker_task("x", 100, poll_interval_millis=5), "multiple values for argument 'poll_interval_millis'"),
])
def test_bad_arguments_raise_type_error(call, fragment):
    with pytest.raises(TypeError, match=fragment):
        call()


def test_task_def_object_is_merged_and_conflicts_refused():
    from conductor.client.http.models.task_def import TaskDef

    name = unique("sdkdef")
    fn = worker_task(name, task_def=TaskDef(name="ignored", retry_count=9, timeout_seconds=30),
                     retry_delay_seconds=1)(lambda: None)
    wire = fn.__idflow_task_def__
    assert (wire["name"], wire["retryCount"], wire["timeoutSeconds"], wire["retryDelaySeconds"]) == (name, 9, 30, 1)
    assert wire["responseTimeoutSeconds"] == 30
    with pytest.raises(TypeError, match="retry_count given both"):
        worker_task("y", task_def=TaskDef(retry_count=1), retry_count=2)(lambda: None)


def test_only_keywords_the_installed_sdk_accepts_are_passed(monkeypatch):
    import conductor.client.worker.worker_task as sdk_module

    seen = {}

    def old_sdk(task_definition_name, poll_interval_millis=100, domain=None):
        seen.update(name=task_definition_name, poll=poll_interval_millis, domain=domain)
        return lambda func: func

    monkeypatch.setattr(sdk_module, "worker_task", old_sdk)
    fn = worker_task("old", poll_interval_millis=5, thread_count=3, retry_count=2)(lambda: "ok")
    assert seen == {"name": "old", "poll": 5, "domain": None} and fn() == "ok"


def test_sdk_taskdef_parameters_match_installed_sdk():
    from conductor.client.http.models.task_def import TaskDef

    from idflow.discovery.parse import SDK_PARAMS, SDK_TASKDEF_PARAMS
    from idflow.worker.decorator import SDK_OPTIONS
    from conductor.client.worker.worker_task import worker_task as sdk_worker_task

    assert set(inspect.signature(TaskDef.__init__).parameters) - {"self"} == SDK_TASKDEF_PARAMS
    assert tuple(inspect.signature(sdk_worker_task).parameters) == SDK_PARAMS == ("task_definition_name",) + SDK_OPTIONS


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"idflow_test_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


EXAMPLES = [("my_task", {"input": "test"}, {"result": "processed: test"}),
            ("greet", {"name": "Ada"}, {"greeting": "Hello, Ada!"}),
            ("sum_numbers", {"a": 2, "b": 3.5}, {"sum": 5.5})]


@pytest.mark.parametrize("name,task_input,output", EXAMPLES)
def test_examples_run_as_real_workers_and_match_discovery(name, task_input, output, monkeypatch):
    from conductor.client.http.models import Task
    from conductor.client.worker.worker import Worker

    monkeypatch.chdir(REPO)
    module = importlib.import_module(f"idflow.tasks.{name}.{name}")
    fn = getattr(module, name)
    result = Worker(name, registered(name)["func"]).execute(
        Task(task_id="t1", workflow_instance_id="w1", task_def_name=name, input_data=task_input))
    assert (result.status, result.output_data) == ("COMPLETED", output)
    assert fn(**task_input) == output if name != "my_task" else fn(task_input) == output
    found = discover("idflow/tasks")
    assert found.errors == [] and found.warnings == []
    task = found.by_name()[name]
    assert task.task_def == fn.__idflow_task_def__ and task.module == module.__name__
    assert (task.path, task.form) == (f"idflow/tasks/{name}/{name}.py", "idflow")


def test_my_task_has_all_nine_keywords():
    task = discover(REPO / "idflow/tasks").by_name()["my_task"]
    assert set(task.keywords) == {"retry_count", "timeout_seconds", "timeout_policy", "retry_logic",
                                  "retry_delay_seconds", "response_timeout_seconds", "concurrent_exec_limit",
                                  "rate_limit_frequency_in_seconds", "rate_limit_per_frequency"}


STATIC_VS_RUNTIME = [
    "from idflow import worker_task\nT = 60 * 20\n@worker_task('{n}', timeout_seconds=T, retry_count=-(-2))\n"
    "def f(x: int = 0):\n    '''Doc line.'''\n    return x\n",
    "import idflow\nfrom conductor.client.http.models import TaskDef\n"
    "@idflow.worker_task('{n}', task_def=TaskDef(retry_count=1, retry_logic='FIXED'), owner_email='a@b.c')\n"
    "async def f():\n    return 1\n",
    "from idflow import worker_task as wt\nKEYS = ['a']\n@wt(input_keys=KEYS, description='d')\ndef {n}():\n    pass\n",
]


@pytest.mark.parametrize("template", STATIC_VS_RUNTIME)
def test_static_definition_equals_runtime_definition(template, tmp_path):
    name = unique("same")
    path = tmp_path / name / f"{name}.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(template.format(n=name)))
    [task] = discover(tmp_path).tasks
    module = import_file(path)
    runtime = next(v.__idflow_task_def__ for v in vars(module).values() if hasattr(v, "__idflow_task_def__"))
    assert task.task_def == runtime and task.problems == ()


def test_discovery_imports_neither_task_code_nor_sdk_nor_prefect(tmp_path):
    (tmp_path / "boom").mkdir()
    marker = tmp_path / "ran"
    (tmp_path / "boom/boom.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(9)\n"
                                           "from idflow import worker_task\n@worker_task()\ndef boom(): pass\n")
    code = ("import sys; from idflow.discovery import discover; d = discover(sys.argv[1]); "
            "assert [t.name for t in d.tasks] == ['boom'], d; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'conductor')]; assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
