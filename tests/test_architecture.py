"""The layers hold: no import cycles, a Prefect-free and terminal-free core, thin shells.

Read from the source with `ast` (every import statement, at any depth, counts), so a
lazy import inside a function is checked too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "idflow"
SHELLS = ("idflow.cli", "idflow.flows")
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    """idflow's own modules (not the example task files under idflow/tasks)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[:2] != ("idflow", "tasks"):
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module named by an import in the file (absolute names)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            named.add(base)
            named.update(f"{base}.{alias.name}" for alias in node.names)
    return named


GRAPH = {name: {m for m in _imports(name, path) if m in MODULES and m != name} for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in GRAPH[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle():
    assert _cycles() == []


# ---- packages: a DAG in the order ARCHITECTURE.md lists ------------------------------------------
ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"
# Upward imports tolerated for now: (importing package or module, imported module) -> the reason; any other fails.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}   # (package, module) imports allowed against the layer order: none


def _known(source: str, target: str) -> bool:
    return any((source == s or source.startswith(s + ".")) and target == t for s, t in KNOWN_UPWARD)


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _package_edges() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(package, package) -> the (module, module) imports behind it; every import at any depth counts."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for name, targets in GRAPH.items():
        for target in targets:
            if _package(name) != _package(target):
                edges.setdefault((_package(name), _package(target)), set()).add((name, target))
    return edges


def _layers() -> list[set[str]]:
    """The numbered list under `## Layer order` in ARCHITECTURE.md: line 1 is the bottom."""
    text = ARCHITECTURE.read_text(encoding="utf-8").split("## Layer order", 1)[1].split("\n## ", 1)[0]
    layers = []
    for line in text.splitlines():
        head = line.strip().split(":", 1)[0]
        if head[:1].isdigit() and ". " in head:
            layers.append({f"idflow.{p.strip().strip('`')}" if p.strip().strip('`') != "idflow" else "idflow"
                           for p in head.split(". ", 1)[1].split(",")})
    return layers


def test_the_packages_import_each_other_without_a_cycle():
    edges = {pair for pair, imports in _package_edges().items() if any(not _known(*i) for i in imports)}
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    seen: dict[str, int] = {}  # 1 on the path, 2 done

    def walk(node: str, path: list[str]) -> None:
        seen[node] = 1
        for other in sorted(graph.get(node, ())):
            assert seen.get(other) != 1, f"package cycle: {' -> '.join(path[path.index(other):] + [other])}"
            if other not in seen:
                walk(other, path + [other])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            walk(node, [node])


def test_every_package_is_in_the_documented_layer_order():
    listed = [p for layer in _layers() for p in layer]
    packages = {_package(m) for m in MODULES}
    assert len(listed) == len(set(listed)), "a package is listed twice in ARCHITECTURE.md's layer order"
    assert packages == set(listed), (f"not in ARCHITECTURE.md's layer order: {sorted(packages - set(listed))}; "
                                     f"listed but gone: {sorted(set(listed) - packages)}")


def test_a_package_imports_only_the_layers_below_its_own():
    level = {p: i for i, layer in enumerate(_layers()) for p in layer}
    wrong = sorted(f"{a} -> {b}" for (pa, pb), imports in _package_edges().items() if level[pb] >= level[pa]
                   for a, b in imports if not _known(a, b))
    assert wrong == [], "imports against ARCHITECTURE.md's layer order:\n" + "\n".join(wrong)


def test_the_known_upward_imports_still_exist():
    """An exception that is no longer needed must be removed from KNOWN_UPWARD."""
    every = {pair for imports in _package_edges().values() for pair in imports}
    for source, target in KNOWN_UPWARD:
        assert any((a == source or a.startswith(source + ".")) and b == target for a, b in every), \
            f"{source} no longer imports {target}: remove it from KNOWN_UPWARD"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith(SHELLS)))
def test_the_core_imports_no_prefect_no_typer_no_terminal(name):
    outside = {m.split(".")[0] for m in _imports(name, MODULES[name])}
    assert not outside & {"prefect", "typer", "click", "rich"}, f"{name} imports {outside & {'prefect', 'typer', 'rich'}}"
    shells = {m for m in _imports(name, MODULES[name]) if m.startswith(SHELLS)}
    assert not shells, f"the core module {name} imports the shell modules {shells}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("idflow.cli")))
def test_the_cli_never_imports_prefect_at_module_level(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module.split(".")[0] if not node.module.startswith("idflow.flows") else "prefect")
    assert "prefect" not in top


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "idflow.cli.startup"))
def test_only_the_typer_seam_imports_typer_internals_or_click(name):
    """idflow/cli/startup.py is the one module on typer's private API (pinned by tests/test_typer_seam.py)."""
    private = {m for m in _imports(name, MODULES[name])
               if m.split(".")[0] == "click" or (m.startswith("typer.") and m.split(".")[1].startswith("_"))}
    assert not private, f"{name} imports {sorted(private)}: import them from idflow.cli.startup"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("idflow.cli.commands")))
def test_a_command_module_does_not_import_the_app(name):
    assert not {m for m in _imports(name, MODULES[name]) if m in ("idflow.cli.app", "idflow.cli.groups")}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("idflow.flows")))
def test_the_flows_use_the_use_cases_not_the_cli(name):
    assert not {m for m in _imports(name, MODULES[name]) if m.startswith("idflow.cli")}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_the_size_limit(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_every_use_case_name_is_the_function_not_a_module_of_the_same_name():
    """The package loads its names lazily; a submodule named like a function would shadow it once imported."""
    import importlib
    import types

    import idflow.usecases as usecases

    for name in sorted(n for n in MODULES if n.startswith("idflow.usecases.")):
        importlib.import_module(name)
    shadowed = [name for name in usecases.__all__ if isinstance(getattr(usecases, name), types.ModuleType)]
    assert shadowed == []


def test_the_plan_comparison_is_pure(monkeypatch):
    """ARCHITECTURE.md: make_plan and settle_orphans touch no file, no process and no network."""
    import builtins
    import io
    import os
    import socket
    import subprocess

    from idflow.provenance.trailer import Provenance, content_hash, stamp
    from idflow.taskdefs.plan import ORPHANED, make_plan, settle_orphans

    def refuse(*args, **kwargs):
        raise AssertionError(f"I/O in a pure step: {args[:1]}")

    gone = {"name": "gone", "retryCount": 1}
    ours = Provenance(sha="0" * 40, dirty=False, path="idflow/tasks/gone/gone.py", hash=content_hash(gone),
                      at="2026-01-01T00:00:00Z", project="p")
    remote = [{"name": "kept", "retryCount": 1}, {"name": "changed", "retryCount": 1},
              {**gone, "description": stamp("", ours)}]
    with monkeypatch.context() as refused:
        for owner, name in ((builtins, "open"), (io, "open"), (os, "open"), (os, "stat"), (os, "listdir"),
                            (os, "scandir"), (subprocess, "run"), (subprocess, "Popen"), (socket, "socket")):
            refused.setattr(owner, name, refuse)
        plan = make_plan([{"name": "kept", "retryCount": 1}, {"name": "changed", "retryCount": 2},
                          {"name": "new", "retryCount": 0}], remote, project="p", server_url="http://h/api")
        orphans = [item.name for item in plan.of(ORPHANED)]
        settled = settle_orphans(plan, {"gone": "its commit is not in this clone"})
    assert {item.name for item in plan.items} == {"kept", "changed", "new", "gone"}
    assert orphans == ["gone"] and not settled.of(ORPHANED)


# ---- imports at the top: in a function only at a named seam (ARCHITECTURE.md, "Where an import goes") -------
_RENDER_TASKS = {"idflow.cli.render.tasks", "idflow.cli.render.text"}  # rich: `--json` and `--help` draw nothing
SEAMS = {  # module -> what it may import inside a function, and why
    "idflow": {"idflow.worker.decorator"},                      # `idflow.worker_task` on first use
    "idflow.base.reading": {"yaml"},                             # pyyaml(): PyYAML on the first YAML read
    "idflow.conductor.answers": {"ssl"},                         # only to explain a TLS failure
    "idflow.conductor.httpx_import": {"httpx"},                  # import_httpx()
    "idflow.discovery.walk": {"idflow.discovery.parse"},         # the parser only for a file the cache lacks
    "idflow.engine.write": {"concurrent.futures"},               # threads (and logging) only for parallel writes
    "idflow.project.identity": {"idflow.project.config_yaml"},   # doctor imports identity at every start
    "idflow.usecases.session": {"idflow.conductor.client"},      # the client, when a session first needs one
    "idflow.worker.decorator": {"conductor"},                    # a task file importing the decorator loads no SDK
    # the CLI: every start imports app and state (`idflow --help` too), a command's module when it runs
    # (startup.lazy_group); what neither `--help` nor a local path uses is imported where it is used
    "idflow.cli.entry": {"idflow.cli.app"},  # typer and the commands: not for a help line the help cache holds
    "idflow.cli.app": {"idflow.cli.versions", "idflow.conductor.auth"} | _RENDER_TASKS,  # --version; an error's
    # text, its issues and the secrets kept out of it
    "idflow.cli.state": {"idflow.project.config", "idflow.conductor.client", "idflow.usecases",
                         "idflow.usecases.registry", "idflow.cli.prefect_bridge", "idflow.project.protection",
                         "idflow.cli.render.progress", "rich.console"},  # a config, a client, a run, a console
    "idflow.cli.prefect_bridge": {"prefect", "httpx", "idflow.flows"},  # Prefect only for --prefect
    "idflow.cli.render.local": {"rich", "idflow.cli.render.table", "idflow.cli.render.text"},  # list --local --json
    "idflow.cli.render.progress": {"rich.progress"},             # state imports it; a bar only on a terminal
    "idflow.cli.render.table": {"rich.box", "rich.table", "rich.padding", "rich.text", "rich.cells"},  # rich draws
    "idflow.cli.commands.worker": {"idflow.worker.loading", "idflow.worker.pool"},  # not for `worker start --help`
}
# A command module is imported when its command runs or prints its own --help (startup.lazy_group): what only the
# run uses, its use case, renderer (rich) and client, is imported in the function that runs, so `idflow GROUP
# COMMAND --help` costs what `idflow --help` does (a use case can bring libcst or GitPython) and --json draws nothing.
COMMAND_RUN = {"idflow.usecases", "idflow.cli.render", "idflow.conductor", "rich"}


def _imports_in_functions(path: Path) -> list[tuple[int, str]]:
    found = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if inside and isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif inside and isinstance(child, ast.ImportFrom):
                found.append((child.lineno, "." * child.level + (child.module or "")))
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_are_at_the_top_but_at_a_named_seam(name):
    allowed = SEAMS.get(name, set()) | (COMMAND_RUN if name.startswith("idflow.cli.commands.") else set())
    stray = [f"line {line}: {target}" for line, target in _imports_in_functions(MODULES[name])
             if not any(target == a or target.startswith(a + ".") for a in allowed)]
    assert stray == [], f"{name} imports inside a function: {stray} (move it to the top, or name the seam in SEAMS)"


@pytest.mark.parametrize("name", sorted(SEAMS))
def test_every_named_seam_is_still_used(name):
    """A seam whose import moved to the top (or went away) comes out of SEAMS and ARCHITECTURE.md."""
    used = [target for _line, target in _imports_in_functions(MODULES[name])]
    unused = {a for a in SEAMS[name] if not any(t == a or t.startswith(a + ".") for t in used)}
    assert unused == set(), f"{name}: no import inside a function of {sorted(unused)}"


# ---- every dataclass says what it is ---------------------------------------------------------------------------
def test_every_dataclass_has_a_docstring():
    """Python 3.11's @dataclass invents a docstring with inspect.signature for a class without one, at import
    (about 0.3 ms a class, paid at every start by the classes a command loads); a line of our own costs nothing."""
    missing = []
    for name, path in sorted(MODULES.items()):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ClassDef) and any("dataclass" in ast.unparse(d) for d in node.decorator_list)
                    and ast.get_docstring(node) is None):
                missing.append(f"{name}.{node.name}")
    assert missing == []
