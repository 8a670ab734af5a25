"""Static discovery: every accepted decorator form, field by field."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idflow.discovery import walk as discovery_fs
from idflow.discovery import DiscoveredTask, Discovery, Issue, discover, discover_sources, parse_requirements

REPO = Path(__file__).resolve().parent.parent

NINE = dict(retry_count=5, timeout_seconds=1200, timeout_policy="RETRY", retry_logic="EXPONENTIAL_BACKOFF",
            retry_delay_seconds=30, response_timeout_seconds=600, concurrent_exec_limit=4,
            rate_limit_frequency_in_seconds=60, rate_limit_per_frequency=100)
NINE_WIRE = {"retryCount": 5, "timeoutSeconds": 1200, "timeoutPolicy": "RETRY", "retryLogic": "EXPONENTIAL_BACKOFF",
             "retryDelaySeconds": 30, "responseTimeoutSeconds": 600, "concurrentExecLimit": 4,
             "rateLimitFrequencyInSeconds": 60, "rateLimitPerFrequency": 100}
NINE_SOURCE = ", ".join(f"{k}={v!r}" for k, v in NINE.items())


def one(source: str, name: str = "t/t.py") -> Discovery:
    return discover_sources([(name, textwrap.dedent(source).lstrip().encode())], tasks_dir=".")


def only_task(source: str) -> DiscoveredTask:
    found = one(source)
    assert len(found.tasks) == 1, (found.tasks, found.issues)
    return found.tasks[0]


def messages(found: Discovery, severity: str = "error") -> list[str]:
    return [i.message for i in (found.errors if severity == "error" else found.warnings)]


def assert_nine(task: DiscoveredTask, name: str) -> None:
    wire = task.task_def
    assert wire["name"] == name
    for field, value in NINE_WIRE.items():
        assert wire[field] == value, field
    assert (wire["backoffScaleFactor"], wire["totalTimeoutSeconds"]) == (1, 0)
    assert task.keywords == NINE
    assert task.problems == ()


def test_seed_form_reads_every_field_and_warns():
    found = one(f"""
        from conductor.client.worker.worker_task import worker_task

        @worker_task(task_definition_name='seed_t', {NINE_SOURCE})
        def seed_fn(task_input):
            '''Seed task.

            Second paragraph.'''
            return {{'result': task_input}}
    """)
    [task] = found.tasks
    assert (task.form, task.function, task.line, task.path) == ("seed", "seed_fn", 3, "t/t.py")
    assert_nine(task, "seed_t")
    assert task.task_def["description"] == "Seed task."
    [warning] = found.warnings
    assert warning.line == 3 and "the SDK's worker_task does not accept retry_count" in warning.message
    assert "fails at import when the worker starts" in warning.message
    assert "from idflow import worker_task" in warning.message
    assert found.errors == []


def test_idflow_form_reads_every_field_without_warnings():
    found = one(f"""
        from idflow import worker_task

        @worker_task(task_definition_name='idf', {NINE_SOURCE}, thread_count=4, domain='blue',
                     poll_interval_millis=250, description='Explicit.')
        def idf(text: str = "") -> dict:
            return {{"result": text}}
    """)
    [task] = found.tasks
    assert task.form == "idflow" and found.issues == []
    assert task.worker_options == {"thread_count": 4, "domain": "blue", "poll_interval_millis": 250}
    assert task.task_def["description"] == "Explicit."
    assert {k: v for k, v in task.keywords.items() if k != "description"} == NINE
    task = DiscoveredTask(**{**task.__dict__, "keywords": NINE})
    assert_nine(task, "idf")


@pytest.mark.parametrize("imports,call", [
    ("from conductor.client.http.models import TaskDef", "TaskDef"),
    ("from conductor.client.http.models.task_def import TaskDef", "TaskDef"),
    ("from conductor.client.http.models import TaskDef as TD", "TD"),
    ("from conductor.client.http import models", "models.TaskDef"),
    ("import conductor.client.http.models.task_def as tdm", "tdm.TaskDef"),
])
def test_sdk_form_reads_taskdef(imports, call):
    found = one(f"""
        from conductor.client.worker.worker_task import worker_task
        {imports}

        @worker_task(task_definition_name='sdk_t', poll_interval_millis=100,
                     task_def={call}(name='sdk_t', {NINE_SOURCE}))
        async def sdk_fn(text: str) -> dict:
            return {{"result": text}}
    """)
    [task] = found.tasks
    assert (task.form, task.function) == ("sdk", "sdk_fn")
    assert_nine(task, "sdk_t")
    assert found.issues == []


@pytest.mark.parametrize("imports,decorator,form", [
    ("from conductor.client.worker.worker_task import worker_task as wt", "wt", "seed"),
    ("import conductor.client.worker.worker_task as wtm", "wtm.worker_task", "seed"),
    ("import conductor.client.worker.worker_task", "conductor.client.worker.worker_task.worker_task", "seed"),
    ("from conductor.client.worker import worker_task as w", "w.worker_task", "seed"),
    ("from conductor.client.worker.worker_task import *", "worker_task", "seed"),
    ("import idflow", "idflow.worker_task", "idflow"),
    ("import idflow as i", "i.worker_task", "idflow"),
    ("from idflow import worker_task as task", "task", "idflow"),
    ("from idflow.worker.decorator import worker_task", "worker_task", "idflow"),
    ("from idflow import *", "worker_task", "idflow"),
])
def test_aliases(imports, decorator, form):
    found = one(f"""
        {imports}

        @{decorator}(task_definition_name='aliased')
        def fn(text: str = "") -> dict:
            return {{}}
    """)
    assert [(t.name, t.form) for t in found.tasks] == [("aliased", form)]
    assert found.issues == []


def test_constants_arithmetic_and_names():
    task = only_task("""
        from idflow import worker_task

        PREFIX = "const"
        TIMEOUT = 60 * 20
        RESPONSE: int = TIMEOUT // 2 - 0
        RETRIES = 2 + 3
        RETRIES = RETRIES * 2
        DELAY = -(-10)
        WINDOW = 2 ** 3
        ALIAS = WINDOW
        KEYS = ["a", PREFIX]

        @worker_task(f"{PREFIX}_task", timeout_seconds=TIMEOUT, response_timeout_seconds=RESPONSE,
                     retry_count=RETRIES, retry_delay_seconds=DELAY, rate_limit_frequency_in_seconds=ALIAS,
                     rate_limit_per_frequency=+5, input_keys=KEYS, owner_email=PREFIX + "@localhost")
        def fn(): pass
    """)
    wire = task.task_def
    assert wire["name"] == "const_task"
    assert (wire["timeoutSeconds"], wire["responseTimeoutSeconds"], wire["retryCount"]) == (1200, 600, 10)
    assert (wire["retryDelaySeconds"], wire["rateLimitFrequencyInSeconds"], wire["rateLimitPerFrequency"]) == (10, 8, 5)
    assert wire["inputKeys"] == ["a", "const"] and wire["ownerEmail"] == "const@localhost"
    assert task.problems == ()


@pytest.mark.parametrize("prelude,value,fragment", [
    ("", "get_retries()", "get_retries() cannot be read without running the file"),
    ("from .consts import RETRIES", "RETRIES", "imported"),
    ("RETRIES = 1\nRETRIES += 1", "RETRIES", "changed on line"),
    ("if True:\n    RETRIES = 1", "RETRIES", "inside a block"),
    ("", "LATER", "not assigned above this line"),
    ("import os", "os.cpu_count()", "computed when the file runs"),
    ("", "2 ** 1000", "too large"),
    ("", "1 // 0", "modulo by zero"),
    ("", "'a' * 3", "cannot compute str * int"),
    ("", "[*range(3)]", "unpacking"),
    ("", "1" + " + 1" * 300, "nested too deeply"),
])
def test_values_that_cannot_be_read_are_errors(prelude, value, fragment):
    found = one(f"from idflow import worker_task\n{prelude}\n\n@worker_task('v', retry_count={value})\n"
                "def fn(): pass\nLATER = 3\n")
    [task] = found.tasks
    assert task.problems and "retry_count" not in task.keywords
    [error] = found.errors
    assert fragment in error.message and "task 'v'" in error.message
    assert error.line == 4 + prelude.count("\n")


def test_async_several_tasks_positional_name_and_default_name():
    found = one("""
        import idflow
        from conductor.client.worker.worker_task import worker_task as sdk

        @idflow.worker_task("first", retry_count=1)
        async def first(): pass

        @idflow.worker_task(retry_count=2)
        def second(): pass

        @idflow.worker_task
        def third(): pass

        @sdk(retry_count=4)
        def fourth(): pass

        @sdk
        def fifth(): pass
    """)
    assert [(t.name, t.function, t.task_def["retryCount"]) for t in found.tasks] == [
        ("first", "first", 1), ("second", "second", 2), ("third", "third", 3), ("fourth", "fourth", 4)]
    assert any("requires task_definition_name" in m for m in messages(found, "warning"))
    assert any("@sdk needs arguments" in m for m in messages(found))


SDK_C = ("from conductor.client.worker.worker_task import worker_task\nfrom conductor.client.http.models import TaskDef\n"
         "DEF = TaskDef(name='other', retryCount=3, input_template={'a': 1})\n"
         "@worker_task('sdk_c', task_def=DEF)\ndef fn(): pass\n")


@pytest.mark.parametrize("source,fragment,severity", [
    (SDK_C, "unknown keyword 'retryCount' for TaskDef: TaskDef keywords are snake_case: write retry_count=", "error"),
    (SDK_C, "TaskDef(input_template=...) is not managed by idflow and is ignored", "warning"),
    (SDK_C, "TaskDef(name='other') differs from task_definition_name 'sdk_c'", "warning"),
    ("from conductor.client.worker import worker_task as w\n@w('mod', retry_count=2)\ndef f(): pass\n",
     "`w` is the module conductor.client.worker.worker_task, not the decorator", "warning"),
    ("from idflow import worker_task\n@worker_task('x', **OPTS)\ndef f(): pass\n", "cannot be read statically", "error"),
    ("from idflow import worker_task\n@worker_task(123)\ndef f(): pass\n", "must be a non-empty string", "error"),
    ("from idflow import worker_task\n@worker_task(name())\ndef f(): pass\n", "task_definition_name=name()", "error"),
    ("@worker_task('x')\ndef f(): pass\n", "never imported", "error"),
    ("from mylib import worker_task\n@worker_task('x')\ndef f(): pass\n", "comes from mylib.worker_task", "warning"),
    ("def worker_task(*a):\n    return lambda f: f\n@worker_task('x')\ndef f(): pass\n", "defined in this file",
     "warning"),
    ("from idflow import worker_task\n@worker_task('x', register_task_def=True)\ndef f(): pass\n",
     "register_task_def=True", "warning"),
    ("from idflow import worker_task\nimport os\n@worker_task('x', thread_count=os.cpu_count())\ndef f(): pass\n",
     "thread_count=os.cpu_count() cannot be read statically", "warning"),
    ("from idflow import worker_task\n@worker_task('x', retry_count=1, task_def=TaskDef(retry_count=2))\n"
     "def f(): pass\nfrom conductor.client.http.models import TaskDef\n", "given both", "error"),
])
def test_decorator_problems_are_reported(source, fragment, severity):
    found = one(source)
    assert any(fragment in m for m in messages(found, severity)), found.issues


def test_options_from_constant_dict():
    task = only_task("from idflow import worker_task\nOPTS = {'retry_count': 7, 'domain': 'd'}\n"
                     "@worker_task('x', **OPTS)\ndef f(): pass\n")
    assert task.task_def["retryCount"] == 7 and task.worker_options == {"domain": "d"}


def test_helper_modules_requirements_and_modules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for package in ("pkg", "pkg/tasks", "pkg/tasks/alpha"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    alpha = tmp_path / "pkg/tasks/alpha"
    (alpha / "alpha.py").write_text("from idflow import worker_task\n\n@worker_task('alpha')\ndef alpha(): pass\n")
    (alpha / "helpers.py").write_text("import idflow\n\n@idflow.worker_task('alpha_helper')\ndef h(): pass\n")
    (alpha / "requirements.txt").write_text("# comment\n\nrequests>=2  # pinned later\n  pyyaml\n-r extra.txt\n")
    found = discover(tmp_path / "pkg/tasks")
    assert found.issues == []
    by_name = found.by_name()
    assert by_name["alpha_helper"].path == "pkg/tasks/alpha/helpers.py"
    assert by_name["alpha_helper"].module == "pkg.tasks.alpha.helpers"
    assert by_name["alpha"].module == "pkg.tasks.alpha.alpha"
    assert by_name["alpha"].task_dir == "pkg/tasks/alpha"
    assert by_name["alpha"].requirements == ("requests>=2", "pyyaml", "-r extra.txt")
    (tmp_path / "pkg/__init__.py").unlink()
    assert discover("pkg/tasks").by_name()["alpha"].module == "pkg/tasks/alpha/alpha.py"


def test_parse_requirements():
    assert parse_requirements("\n# x\nfoo==1 # y\nbar\t# z\nbaz[extra]>=2\n\n") == ("foo==1", "bar", "baz[extra]>=2")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                 st.lists(st.sampled_from(["from idflow import worker_task\n", "@worker_task(", "'x'", ", ",
                                           "retry_count=", "R", "R = 3\n", "1 +", ")\n", "def f(): pass\n",
                                           "task_def=TaskDef(", "**", "\xef\xbb\xbf", "# coding: latin-1\n"]),
                          max_size=30).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))))
def test_any_content_gives_issues_not_exceptions(content):
    found = discover_sources([("t/t.py", content), ("t/requirements.txt", content)], tasks_dir=".")
    assert all(i.severity in ("error", "warning") and i.message for i in found.issues)
    assert not any("internal error" in i.message for i in found.issues), found.issues
    json.dumps(found.to_json())


CORPUS = REPO / "tests" / "corpus" / "tasks"
EXPECTED = [  # (file or dir under the corpus, line, fragment, severity)
    ("syntax_error/syntax_error.py", 4, "syntax error: '(' was never closed", "error"),
    ("undecodable/undecodable.py", 3, "not valid utf-8 (byte 0xe9 on line 3)", "error"),
    ("computed_value/computed_value.py", 9, "retry_count=get_retries() cannot be read", "error"),
    ("unknown_keyword/unknown_keyword.py", 4, "unknown keyword 'retry_cnt' for worker_task: did you mean retry_count=?",
     "error"),
    ("wrong_type/wrong_type.py", 4, "retry_count must be a whole number, got str '5'", "error"),
    ("duplicate_b/duplicate_b.py", 4, "task name 'duplicate' is defined twice: tests/corpus/tasks/duplicate_a/"
                                      "duplicate_a.py:4 and tests/corpus/tasks/duplicate_b/duplicate_b.py:4", "error"),
    ("empty_dir", 0, "task dir 'empty_dir' has no @worker_task function", "error"),
    ("deep_nesting/deep_nesting.py", 0, "nested too deeply", "error"),
    ("not_a_file/not_a_file.py", 0, "is a directory named like a Python file", "error"),
    ("invalid_def/invalid_def.py", 4, "responseTimeoutSeconds (600) must be <= timeoutSeconds (60)", "error"),
    ("invalid_def/invalid_def.py", 4, "timeoutPolicy 'SOMETIMES' is not one of", "error"),
    ("seed_form/seed_form.py", 4, "does not accept retry_count, timeout_seconds", "warning"),
]


@pytest.fixture
def corpus(monkeypatch) -> Discovery:
    monkeypatch.chdir(REPO)
    return discover("tests/corpus/tasks")


@pytest.mark.parametrize("where,line,fragment,severity", EXPECTED)
def test_corpus_problem(corpus, where, line, fragment, severity):
    issues = corpus.errors if severity == "error" else corpus.warnings
    hits = [i for i in issues if i.path == f"tests/corpus/tasks/{where}" and fragment in i.message]
    assert [i.line for i in hits] == [line], issues


def test_corpus_good_files_survive_bad_ones(corpus):
    assert {"bom", "latin1", "seed_form"} <= {t.name for t in corpus.valid_tasks}
    assert corpus.by_name()["latin1"].task_def["description"] == "café"
    assert corpus.by_name()["bom"].task_def["retryCount"] == 4
    assert "duplicate" not in {t.name for t in corpus.valid_tasks}
    assert len(corpus.errors) == len(EXPECTED) - 1  # every error expected, nothing more
    assert all(i.path and i.message and i.severity in ("error", "warning") for i in corpus.issues)


def test_sources_follow_the_same_rules(corpus):
    files = [(p.relative_to(REPO).as_posix(), p.read_bytes()) for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    from_git = discover_sources(files)
    assert [(t.name, t.path, t.task_def) for t in from_git.tasks] == [(t.name, t.path, t.task_def) for t in corpus.tasks]
    fs_only = {"not_a_file/not_a_file.py"}  # a directory: Git has no such thing
    expected = {(i.path, i.line, i.message) for i in corpus.errors if i.path[len("tests/corpus/tasks/"):] not in fs_only}
    assert {(i.path, i.line, i.message) for i in from_git.errors} - {("tests/corpus/tasks/not_a_file", 0, "")} >= expected


def test_sources_infer_tasks_dir_and_read_requirements():
    files = [("x/x.py", b"from idflow import worker_task\n@worker_task()\ndef x(): pass\n"),
             ("x/requirements.txt", b"# c\nhttpx\n"), ("x/__init__.py", b""), ("empty/README", b"")]
    found = discover_sources(files)
    assert [(t.name, t.requirements, t.task_dir) for t in found.tasks] == [("x", ("httpx",), "x")]
    assert [(e.path, e.line) for e in found.errors] == [("empty", 0)]
    only = discover_sources(files[:3])  # one task dir alone: its parent is the tasks dir
    assert only.tasks[0].task_dir == "x" and only.errors == []


def test_huge_file_is_an_error(tmp_path):
    (tmp_path / "big").mkdir()
    (tmp_path / "big/big.py").write_bytes(b"from idflow import worker_task\n" + b"# padding\n" * 300_000)
    found = discover(tmp_path)
    assert any("over the 2 MB limit" in e.message and e.path.endswith("big/big.py") for e in found.errors)
    assert "big" not in {e.path.rsplit("/", 1)[-1] for e in found.errors}  # no extra "no task" error


def test_symlink_loops_and_broken_links(tmp_path):
    task = tmp_path / "ok"
    task.mkdir()
    (task / "ok.py").write_text("from idflow import worker_task\n@worker_task('ok')\ndef ok(): pass\n")
    (task / "loop").symlink_to(tmp_path, target_is_directory=True)
    (task / "self.py").symlink_to(task / "self.py")
    (task / "gone.py").symlink_to(tmp_path / "missing.py")
    found = discover(tmp_path)
    assert [t.name for t in found.tasks] == ["ok"]
    text = {e.path.rsplit("/", 1)[-1]: e.message for e in found.errors}
    assert "symbolic link loop" in text["loop"] and "symbolic link loop" in text["self.py"]
    assert "broken symbolic link" in text["gone.py"]


def test_unreadable_file_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    path = tmp_path / "locked/locked.py"
    path.write_text("x = 1\n")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads files whatever their mode: make open() refuse instead
        def refuse(name, *args, **kwargs):
            raise PermissionError(13, "Permission denied", name)

        monkeypatch.setattr(discovery_fs, "open", refuse, raising=False)
    [error] = discover(tmp_path).errors
    assert error.path.endswith("locked/locked.py") and "cannot read file: Permission denied" in error.message


def test_leftover_cache_dir_is_a_warning_and_empty_dir_an_error(tmp_path):
    (tmp_path / "old/__pycache__").mkdir(parents=True)
    (tmp_path / "fresh").mkdir()
    found = discover(tmp_path)
    assert [(e.path.rsplit("/", 1)[-1], "no @worker_task" in e.message) for e in found.errors] == [("fresh", True)]
    assert [w.path.rsplit("/", 1)[-1] for w in found.warnings] == ["old"]


def test_missing_tasks_dir_is_one_error(tmp_path):
    found = discover(tmp_path / "nope")
    [error] = found.errors
    assert found.tasks == [] and "does not exist" in error.message and "tasks_dir" in error.message


def test_bad_requirements_encoding(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r/r.py").write_text("from idflow import worker_task\n@worker_task()\ndef r(): pass\n")
    (tmp_path / "r/requirements.txt").write_bytes(b"ok\n\xff\n")
    found = discover(tmp_path)
    assert found.tasks[0].requirements == () and "requirements.txt is not valid UTF-8" in found.errors[0].message


def test_cache_warm_run_parses_nothing(tmp_path, monkeypatch):
    tasks, cache = tmp_path / "tasks", tmp_path / "cache"
    for name in ("a", "b"):
        (tasks / name).mkdir(parents=True)
        (tasks / name / f"{name}.py").write_text(f"from idflow import worker_task\n@worker_task(retry_count=1)\n"
                                                 f"def {name}(): pass\n")
    cold = discover(tasks, cache_dir=cache)
    assert list(cache.glob("discovery-*.json"))
    calls = []
    monkeypatch.setattr(discovery_fs, "_parse", lambda data: calls.append(data))
    warm = discover(tasks, cache_dir=cache)
    assert calls == [] and warm.to_json() == cold.to_json()
    next(cache.glob("discovery-*.json")).write_text("{not json")
    monkeypatch.undo()
    assert discover(tasks, cache_dir=cache).to_json() == cold.to_json()


def test_discovery_model():
    task = only_task("from idflow import worker_task\n@worker_task('m', retry_count=2)\ndef m(): pass\n")
    bad = DiscoveredTask(**{**task.__dict__, "name": "bad", "problems": ("retryCount must be >= 0, got -1",)})
    found = Discovery([task, bad], [Issue("w.py", 1, "look", "warning")])
    assert [e.message for e in found.errors] == ["task 'bad': retryCount must be >= 0, got -1"]
    assert found.valid_tasks == [task] and found.by_name()["m"] is task
    doc = json.loads(json.dumps(found.to_json()))
    assert set(doc) == {"tasks", "issues", "errors", "warnings"}
    assert Discovery.from_json(doc).to_json() == found.to_json()
    assert set(doc["tasks"][0]) == {"name", "path", "line", "function", "task_def", "requirements", "valid",
                                    "layer", "overrides", "task_dir", "form", "keywords", "worker_options",
                                    "problems", "module", "through_link"}
    assert doc["warnings"] == [{"path": "w.py", "line": 1, "message": "look"}]
