"""Start-up: what each command imports, in a fresh interpreter (no timings: benchmarks/bench_startup.py).

A local command that imports Prefect, pydantic, httpx or ssl pays for them at every start;
the server path must not load a CA bundle it never uses for a plain-http URL.
"""
from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.clihelp import task_source

HEAVY = ("prefect", "pydantic", "httpx", "httpcore", "ssl", "rich", "pygments", "yaml", "conductor", "attr",
         "markdown_it", "click", "git")
# Runs one command in a fresh interpreter; writes its exit code and the heavy packages it loaded to a file.
PROBE = """
import json, sys
from idflow.cli.app import main
code = main(sys.argv[2:])
sys.stdout.flush()
with open(sys.argv[1], "w") as report:
    json.dump({"code": code, "modules": sorted({name.split(".")[0] for name in sys.modules}),
               "idflow": sorted(name for name in sys.modules if name.startswith("idflow"))}, report)
"""


def run_probe(root: Path, *argv: str) -> tuple[int, set[str], str]:
    found, out = probe(root, *argv)
    return found["code"], set(found["modules"]) & set(HEAVY), out


def probe(root: Path, *argv: str) -> tuple[dict, str]:
    """What one command in a fresh interpreter reported (its code, the packages and idflow modules it loaded)."""
    report = root.parent / "probe.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CONDUCTOR_"))}
    ran = subprocess.run([sys.executable, "-P", "-c", PROBE, str(report), *argv], cwd=root, env=env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert report.is_file(), ran.stderr[-2000:]
    found = json.loads(report.read_text())
    report.unlink()
    return found, ran.stdout


@pytest.mark.local
def test_a_listing_with_a_warm_parse_cache_loads_no_parser(project):
    """The parser (ast evaluation, its classes) is imported only for a file the parse cache does not hold."""
    (project.tasks_dir / "greet").mkdir()
    (project.tasks_dir / "greet" / "greet.py").write_text(task_source("greet", retry_count=2))
    cold, _ = probe(project.root, "tasks", "list", "--local", "--json")
    warm, out = probe(project.root, "tasks", "list", "--local", "--json")
    assert cold["code"] == warm["code"] == 0 and [t["name"] for t in json.loads(out)["tasks"]] == ["greet"]
    assert "idflow.discovery.parse" in cold["idflow"]
    assert not {"idflow.discovery.parse", "idflow.discovery.evaluate"} & set(warm["idflow"])


LOCAL_NEVER = {"prefect", "pydantic", "httpx", "httpcore", "ssl", "conductor", "git"}  # git: GitPython
NO_TERMINAL = {"rich", "yaml", "attr", "markdown_it", "pygments"}


@pytest.mark.local
@pytest.mark.parametrize("argv, never", [
    (["--help"], LOCAL_NEVER | {"rich", "yaml", "attr", "markdown_it", "pygments"}),
    (["tasks", "--help"], LOCAL_NEVER | {"rich", "yaml", "attr", "markdown_it", "pygments"}),
    # a config of `key: value` lines is read without PyYAML
    (["tasks", "list", "--local", "--json"], LOCAL_NEVER | {"rich", "pygments", "yaml"}),
    (["tasks", "new", "brand_new", "--json"], LOCAL_NEVER | {"rich", "pygments"}),
    (["tasks", "list", "--local"], LOCAL_NEVER | {"pygments", "yaml"}),  # the table needs rich, not pygments
    (["tasks", "new", "brand_new"], LOCAL_NEVER | {"pygments"}),
    (["workflows", "--help"], LOCAL_NEVER | NO_TERMINAL),
    (["workflow", "--help"], LOCAL_NEVER | NO_TERMINAL),
    (["events", "--help"], LOCAL_NEVER | NO_TERMINAL),
    (["worker", "--help"], LOCAL_NEVER | NO_TERMINAL),
    (["tasks", "upload", "--help"], LOCAL_NEVER | NO_TERMINAL),
    # the other groups' listings: lines of simple markup, written without rich to a pipe
    (["workflows", "list", "--local", "--json"], LOCAL_NEVER | {"pygments", "rich"}),
    (["workflows", "list", "--local"], LOCAL_NEVER | {"pygments", "rich"}),
    (["events", "list", "--local", "--json"], LOCAL_NEVER | {"pygments", "rich"}),
    (["events", "list", "--local"], LOCAL_NEVER | {"pygments", "rich"}),
    (["tasks", "backups", "--json"], LOCAL_NEVER | {"pygments"}),
    (["tasks", "backups"], LOCAL_NEVER | {"pygments"}),
    (["workflows", "backups", "--json"], LOCAL_NEVER | {"pygments"}),
    (["workflows", "new", "brand_new_flow", "--json"], LOCAL_NEVER | {"pygments"}),
], ids=["help", "tasks-help", "list-local-json", "new-json", "list-local-table", "new-table", "workflows-help",
        "workflow-help", "events-help", "worker-help", "upload-help", "workflows-local-json", "workflows-local-table",
        "events-local-json", "events-local-table", "backups-json", "backups-table", "workflow-backups-json",
        "workflows-new-json"])
def test_a_local_command_imports_nothing_it_does_not_use(project, argv, never):
    (project.tasks_dir / "greet").mkdir()
    (project.tasks_dir / "greet" / "greet.py").write_text(task_source("greet", retry_count=2))
    code, modules, out = run_probe(project.root, *argv)
    assert code == 0
    assert not modules & never, f"{' '.join(argv)} imported {sorted(modules & never)}"
    if argv[:3] == ["tasks", "list", "--local"] and argv[-1] == "--json" or argv[:2] == ["tasks", "new"] and argv[-1] == "--json":
        doc = json.loads(out)  # the command did its work, not just started
        assert doc.get("task") == "brand_new" or [t["name"] for t in doc["tasks"]] == ["greet"]
    elif argv[-1] == "--json":
        assert isinstance(json.loads(out), dict)
    if argv[:2] == ["tasks", "new"]:
        assert (project.tasks_dir / "brand_new" / "brand_new.py").is_file()
    if "--help" in argv:
        assert "Usage: idflow" in out and "╭" not in out  # click's plain layout, not rich panels


@pytest.mark.parametrize("json_", [True, False], ids=["json", "text"])
def test_the_sync_listing_against_the_server_needs_no_prefect_pydantic_or_rendering(project, json_):
    """Its text too, to a pipe: the table and the summary line ("local 0 · server 3 · ...") are rich's characters
    written without rich (render/plain_table.py)."""
    code, modules, out = run_probe(project.root, "tasks", "list", "--sync", *(["--json"] if json_ else []))
    assert code == 0
    if json_:
        assert isinstance(json.loads(out)["remote"], list)  # it did talk to the server
    else:
        assert "local 0 · server " in out
    # ... over the standard library's HTTP (http.client imports ssl, but no SSL context is made): no httpx
    assert not modules & {"prefect", "pydantic", "rich", "pygments", "click", "httpx", "httpcore", "git"}, sorted(modules)


# `tasks status` takes NAME... (a List[str] argument, like `tasks diff`): typer checks that with pydantic.
@pytest.mark.parametrize("argv, never", [
    (["tasks", "status", "--json"], {"prefect", "rich", "pygments", "click", "git"}),
    (["tasks", "status"], {"prefect", "pygments", "click", "git"}),
], ids=["status-json", "status-table"])
def test_status_needs_no_prefect_or_what_it_does_not_print(project, argv, never):
    code, modules, out = run_probe(project.root, *argv)
    assert code == 0
    assert json.loads(out) if argv[-1] == "--json" else "Task status" in out or "no task types" in out
    assert not modules & never, sorted(modules)


@pytest.mark.local
@pytest.mark.parametrize("argv", [["workflow", "run", "x", "--version", "abc"], ["workflow", "run", "x", "--version", "0"],
                                  ["worker", "start", "--threads", "0"], ["worker", "start", "--grace", "x"]])
def test_values_of_other_types_are_still_checked_by_typer(project, capsys, argv):
    """Only str and bool values skip typer's pydantic check: a bad int is still a usage error (exit 2)."""
    from tests.clihelp import run_cli

    assert run_cli(capsys, *argv, "--json").code == 2


@pytest.mark.local
@pytest.mark.parametrize("argv, expected", [(["--tasks-dir", "elsewhere"], "elsewhere"), ([], ["greet"]),
                                            (["--tasks-dir=idflow/tasks"], ["greet"])])
def test_str_and_bool_values_arrive_as_given(project, capsys, argv, expected):
    from tests.clihelp import run_cli

    (project.tasks_dir / "greet").mkdir()
    (project.tasks_dir / "greet" / "greet.py").write_text(task_source("greet"))
    ran = run_cli(capsys, *argv, "tasks", "list", "--local", "--json")
    if isinstance(expected, str):  # a tasks dir that does not exist: named in the error, so it arrived
        assert ran.code == 1 and ran.json["errors"][0]["path"] == expected
    else:
        assert ran.code == 0 and [t["name"] for t in ran.json["tasks"]] == expected
    assert run_cli(capsys, *argv, "tasks", "list", "--local", "--remote").code == 2  # two bools still counted


@pytest.mark.parametrize("module", ["idflow", "idflow.conductor", "idflow.project.config", "idflow.usecases",
                                    "idflow.usecases.tasks", "idflow.usecases.purging", "idflow.taskdefs.purge"])
def test_importing_a_core_module_loads_no_http_stack_yaml_or_terminal(module):
    """What a command imports of the core costs nothing until a client is built or a config read."""
    loaded = _modules_after(f"import {module}")
    assert not loaded & {"httpx", "httpcore", "ssl", "yaml", "rich", "pydantic", "prefect", "conductor"}, loaded


@pytest.mark.parametrize("argv", [["--help"], ["tasks", "--help"], ["workflows", "--help"], ["workflow", "--help"],
                                  ["taks"], ["tasks", "lst"], ["workflows", "run", "x"], ["workflow", "list"],
                                  ["tasks"], [], ["events", "--help"], ["tasks", "list", "--help"]])
def test_groups_built_on_first_use_behave_as_typer_builds_them(argv):
    """Help, usage errors and suggestions are the same as from typer's own whole-tree build."""
    import typer

    from idflow.cli.app import app
    from idflow.cli.startup import root_command

    assert _invoke(root_command(app), argv) == _invoke(typer.main.get_command(app), argv)


def _invoke(command, argv: list[str]) -> tuple[object, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            result = command.main(args=list(argv), prog_name="idflow", standalone_mode=False)
        except Exception as exc:  # usage errors: compare what they say
            show = getattr(exc, "show", None)
            if show:
                show()
            result = (type(exc).__name__, getattr(exc, "exit_code", None))
    return result, out.getvalue()


def test_a_task_file_importing_the_decorator_loads_neither_the_sdk_nor_the_cli():
    """`from idflow import worker_task` is the first line of every task file: the SDK comes with the decorator's
    first use (a worker needs it then), and nothing of the CLI, the client or the config reader comes at all."""
    loaded = _modules_after("from idflow import worker_task")
    assert not loaded & {"conductor", "httpx", "ssl", "yaml", "rich", "typer", "pydantic", "prefect"}, loaded


# ---- TLS set-up: a plain-http client loads no CA bundle ---------------------------------------------
def ssl_context(client):
    if not hasattr(client._http, "_transport"):  # idflow.conductor.plain_http: no TLS at all
        return None
    return client._http._transport._pool._ssl_context


@pytest.mark.parametrize("url, proxy, verified", [
    ("http://127.0.0.1:8080/api", None, False),
    ("HTTP://conductor.internal:8080/api", None, False),
    ("https://conductor.internal/api", None, True),
    ("http://127.0.0.1:8080/api", "https://proxy.internal:3128", True),   # TLS to the proxy stays verified
    ("http://127.0.0.1:8080/api", "http://proxy.internal:3128", False),
])
def test_certificates_are_loaded_only_where_tls_can_be_used(monkeypatch, url, proxy, verified):
    from idflow.conductor.client import ConductorClient

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    with ConductorClient(url, verify=True) as client:
        context = ssl_context(client)
        if context is None:  # plain http without a proxy: the standard library's client, no SSL context made
            assert not verified and not url.lower().startswith("https") and not proxy
            return
        assert (context.verify_mode == ssl.CERT_REQUIRED) is verified
        assert (context.cert_store_stats()["x509_ca"] > 0) is verified
    with ConductorClient(url, verify=False) as client:  # --insecure never turns verification on
        assert ssl_context(client).verify_mode == ssl.CERT_NONE


def test_importing_httpx_through_idflow_skips_its_command_line_client():
    ran = subprocess.run([sys.executable, "-c", "import sys; from idflow.conductor.httpx_import import import_httpx; "
                          "h = import_httpx(); h.Client; import httpx._main; "
                          "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'pygments', 'click'}))"],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr  # an explicit import of httpx._main still works afterwards ...
    assert ran.stdout.strip() == "['click', 'pygments', 'rich']"  # ... and only then loads its CLI's modules
    ran = subprocess.run([sys.executable, "-c", "import sys; from idflow.conductor.httpx_import import import_httpx; "
                          "import_httpx(); print(sorted({m.split('.')[0] for m in sys.modules} & "
                          "{'rich', 'pygments', 'click'}))"], capture_output=True, text=True, timeout=60)
    assert ran.stdout.strip() == "[]", ran.stderr


# ---- the server URL is checked without httpx when it is a plain one -----------------------------------
@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/api", "http://localhost:8080", "https://c.example.com/api/",
                                 "http://h:0/api", "http://h:70000/api", "http://999.1.1.1/api", "http://1.2.3/api",
                                 "http://a_b:8080/api", "http://[::1]:8080/api", "http://u:p@h:8080/api",
                                 "http://h:/api", "http://h:8080/api?x=1", "http://-h/api"])
def test_the_quick_url_check_agrees_with_httpx(url):
    from idflow.project.config import _PLAIN_URL, httpx_url_problem, url_problem

    assert url_problem(url) == httpx_url_problem(url)
    if _PLAIN_URL.fullmatch(url) and url_problem(url) is None:
        assert "httpx" not in _modules_after(f"from idflow.project.config import url_problem; url_problem({url!r})")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\Ahttps?://[0-9a-zA-Z.-]{1,20}(:[0-9]{1,5})?(/[a-z._~/-]{0,10})?\Z"))
def test_every_url_the_quick_check_accepts_httpx_accepts(url):
    from idflow.project.config import httpx_url_problem, url_problem

    assert url_problem(url) == httpx_url_problem(url)


def _modules_after(code: str) -> set[str]:
    ran = subprocess.run([sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    return {name.split(".")[0] for name in ran.stdout.split()}


def test_the_renderers_of_writes_load_no_table_module():
    """An upload, a diff or a purge prints lines, not a table: rich.table (with fractions and decimal) is
    imported only when `render.table` draws one (the seam in tests/test_architecture.py)."""
    code = ("import sys; import idflow.cli.render.tasks, idflow.cli.render.purge, idflow.cli.render.events; "
            "print('rich.table' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
