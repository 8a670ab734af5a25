"""Static discovery: task files -> desired TaskDefs, plus every problem found on the way.

Discovery never imports task code (shared/DESIGN.md, "Task files": imports are slow, may have side effects and need the task's own requirements). Each file's source
is read with `ast` by `parse.parse_source`; this module walks the tasks
dir (or takes sources from elsewhere, e.g. a Git revision), attaches paths,
requirements and module names, builds the wire TaskDefs, and reports duplicates
and task dirs without a task. One bad file never hides the good ones.

An `Issue` with line 0 concerns a whole file or directory.
"""
from __future__ import annotations

import errno
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable

from idflow.model import fields as taskdef
from idflow.discovery.parsed import NESTED_TASK
from idflow.discovery.walk import ParseCache, display_path, walk_tasks_dir
from idflow.base.reading import virtual_root, what_it_is
from idflow.model.validation import keyword_type_errors, validate

REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class DiscoveredTask:
    """A task found in a task file: its decorator's keywords, the TaskDef they make, and where it was read."""

    name: str
    function: str
    path: str          # relative to cwd when under it, else absolute; posix
    line: int          # the decorator's line
    task_dir: str      # the task's directory (same path convention)
    form: str          # "seed" | "idflow" | "sdk"
    keywords: dict     # TaskDef keywords as read (snake_case)
    worker_options: dict
    task_def: dict     # wire form (taskdef.build)
    requirements: tuple[str, ...]
    problems: tuple[str, ...]  # why task_def is unusable: read errors + validation (empty = valid)
    module: str        # dotted module for the worker, or the file path when not in a package
    layer: str = ""    # the tasks dir it came from (see discovery_layers)
    overrides: tuple[str, ...] = ()  # "path:line" of same-named tasks in earlier layers it replaces
    through_link: bool | None = None  # its dir or file is a symbolic link, as the walk saw it (None: not known)


@dataclass(frozen=True)
class Issue:
    """A problem found in the task files, at a path and line (0: the whole file or directory)."""

    path: str
    line: int
    message: str
    severity: str  # "error" | "warning"


@dataclass
class Discovery:
    """Everything discovery found: the tasks, and the problems beside them."""

    tasks: list[DiscoveredTask] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Error issues plus every task problem not already among them."""
        errors = [i for i in self.issues if i.severity == "error"]
        seen = {(i.path, i.message) for i in errors}
        for task in self.tasks:
            for problem in task.problems:
                message = task_problem_message(task.name, problem)
                if (task.path, message) not in seen:
                    seen.add((task.path, message))
                    errors.append(Issue(task.path, task.line, message, "error"))
        return errors

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def by_name(self) -> dict[str, DiscoveredTask]:
        """Tasks by name; with duplicates, the first in path order."""
        result: dict[str, DiscoveredTask] = {}
        for task in self.tasks:
            result.setdefault(task.name, task)
        return result

    @property
    def duplicate_names(self) -> set[str]:
        seen: set[str] = set()
        return {t.name for t in self.tasks if t.name in seen or seen.add(t.name)}

    @property
    def valid_tasks(self) -> list[DiscoveredTask]:
        duplicates = self.duplicate_names
        return [t for t in self.tasks if not t.problems and t.name not in duplicates]

    def to_json(self) -> dict[str, Any]:
        """Every task and issue, whole (`from_json` reads it back), plus the derived `errors` and `warnings`."""
        def issue(i: Issue) -> dict[str, Any]:
            return {"path": i.path, "line": i.line, "message": i.message}

        valid = {id(t) for t in self.valid_tasks}
        return {
            "tasks": [{"name": t.name, "path": t.path, "line": t.line, "function": t.function,
                       "task_def": t.task_def, "requirements": list(t.requirements), "valid": id(t) in valid,
                       "layer": t.layer, "overrides": list(t.overrides), "task_dir": t.task_dir, "form": t.form,
                       "keywords": t.keywords, "worker_options": t.worker_options, "problems": list(t.problems),
                       "module": t.module, "through_link": t.through_link}
                      for t in self.tasks],
            "issues": [{**issue(i), "severity": i.severity} for i in self.issues],
            "errors": [issue(i) for i in self.errors],
            "warnings": [issue(i) for i in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Discovery":
        tasks = [DiscoveredTask(name=t["name"], function=t["function"], path=t["path"], line=t["line"],
                                task_dir=t["task_dir"], form=t["form"], keywords=t["keywords"],
                                worker_options=t["worker_options"], task_def=t["task_def"],
                                requirements=tuple(t["requirements"]), problems=tuple(t["problems"]),
                                module=t["module"], layer=t.get("layer", ""), overrides=tuple(t.get("overrides", ())),
                                through_link=t.get("through_link"))
                 for t in data.get("tasks", [])]
        return cls(tasks, [Issue(i["path"], i["line"], i["message"], i["severity"]) for i in data.get("issues", [])])


def is_test_file(filename: str) -> bool:
    """pytest's default names: test_*.py, *_test.py, conftest.py."""
    return filename.endswith(".py") and (filename.startswith("test_") or filename.endswith("_test.py")
                                         or filename == "conftest.py")


def task_problem_message(name: str, problem: str) -> str:
    return f"task {name!r}: {problem}"


@dataclass(frozen=True)
class _Source:
    """One file handed to assembly: display path, path inside the tasks dir, parsed content."""

    path: str
    parts: tuple[str, ...]  # path inside the tasks dir, split
    parsed: dict[str, Any]


def discover(tasks_dir: str | Path, *, cache_dir: Path | None = None, cache: ParseCache | None = None) -> Discovery:
    """Read every task under `tasks_dir` (never imports it); problems become issues."""
    root = Path(tasks_dir)
    root_display = display_path(root)
    what = _not_a_tasks_dir(root)
    if what:
        fix = "create it (`idflow tasks new NAME` scaffolds a task) or " if what == "does not exist" else ""
        return Discovery([], [Issue(root_display, 0, f"tasks dir {root_display} {what}: {fix}point tasks_dir "
                                    "(or tasks_dirs) in config/idflow.yml (or --tasks-dir) at your task files",
                                    "error")])
    walk = walk_tasks_dir(root)
    issues = [Issue(f"{root_display}/{rel}" if rel else root_display, line, message, severity)
              for rel, line, message, severity in walk.issues]
    own_cache = cache is None
    cache = ParseCache(cache_dir) if cache is None else cache
    sources = []
    for rel, content in walk.files:
        parsed = cache.parse(content) if isinstance(content, bytes) else _unreadable(content)
        sources.append(_Source(_join(root_display, rel), tuple(rel.split("/")), parsed))
    if own_cache:
        cache.save()
    requirements = {_join(root_display, rel): content for rel, content in walk.requirements}
    package_dirs = {_join(root_display, rel) for rel in walk.package_dirs}
    is_package = _package_test(package_dirs, root_display)
    task_dirs = [_join(root_display, rel) for rel in walk.task_dirs]
    links = {_join(root_display, rel) for rel in walk.links}
    return _assemble(root_display, sources, requirements, task_dirs, is_package, issues, links)


def _not_a_tasks_dir(root: Path) -> str | None:
    """Why `root` cannot be walked as a tasks dir (None: it can)."""
    try:
        st = os.stat(root)
    except OSError as exc:
        return ("is a loop of symbolic links" if exc.errno == errno.ELOOP else "does not exist"
                if exc.errno == errno.ENOENT else f"cannot be read ({exc.strerror or exc})")
    if not stat.S_ISDIR(st.st_mode):
        return f"is {what_it_is(st.st_mode)}, not a directory"
    virtual = virtual_root(root)
    if virtual:
        return f"is in {virtual}, a file system the kernel makes up, not a folder of task files"
    return None


def discover_sources(files: Iterable[tuple[str, bytes]], *, tasks_dir: str | None = None,
                     cache_dir: Path | None = None) -> Discovery:
    """Discovery over (posix path, content) pairs, e.g. a Git revision's files; touches no working tree.

    Paths are relative (e.g. "idflow/tasks/x/x.py" or "x/x.py"). The tasks dir is `tasks_dir`
    when given, else inferred: the files' common directory, or its parent when that
    directory is itself a task dir (holds `<dir>/<dir>.py`). Only `.py` files and task
    dirs' requirements.txt are read; other files just make their task dir known.
    Whether a directory above the tasks dir is a package (for `module`) is taken from
    the files when they include its `__init__.py`, else from the current directory.
    """
    pairs = [(PurePosixPath(path.replace("\\", "/")), bytes(content)) for path, content in files]
    root = PurePosixPath(tasks_dir.rstrip("/") or ".") if tasks_dir is not None else _infer_root([p for p, _ in pairs])
    cache = ParseCache(cache_dir)
    sources, requirements, package_dirs, task_dirs, issues = [], {}, set(), set(), []
    for path, content in sorted(pairs):
        try:
            rel = path.relative_to(root) if str(root) != "." else path
        except ValueError:
            issues.append(Issue(str(path), 0, f"file is outside the tasks dir {root}; pass files under it", "warning"))
            continue
        if len(rel.parts) > 1:
            task_dirs.add(str(root / rel.parts[0]) if str(root) != "." else rel.parts[0])
        if path.suffix == ".py":
            parsed = cache.parse(content)
            sources.append(_Source(str(path), rel.parts, parsed))
            if path.name == "__init__.py":
                package_dirs.add(str(path.parent))
        elif path.name == REQUIREMENTS and len(rel.parts) <= 2:
            requirements[str(path)] = content
    cache.save()
    is_package = _package_test(package_dirs, str(root))
    return _assemble(str(root), sources, requirements, sorted(task_dirs), is_package, issues)


def _infer_root(paths: list[PurePosixPath]) -> PurePosixPath:
    if not paths:
        return PurePosixPath(".")
    try:
        common = os.path.commonpath([str(p.parent) for p in paths]) or "."
    except ValueError:  # absolute and relative paths mixed
        return PurePosixPath(".")
    root = PurePosixPath(common)
    names = {str(p) for p in paths}
    if str(root) != "." and str(root / f"{root.name}.py") in names:
        root = root.parent
    return root


def _assemble(root: str, sources: list[_Source], requirements: dict[str, Any], task_dirs: list[str],
              is_package: Callable[[str], bool], issues: list[Issue], links: set[str] | None = None) -> Discovery:
    tasks: list[DiscoveredTask] = []
    dirs_with_tasks: set[str] = set()
    dirs_with_errors = {_task_dir(root, rel.parts) for rel in (_relative(i.path, root) for i in issues
                                                                if i.severity == "error") if rel is not None}
    req_cache: dict[str, tuple[str, ...]] = {}
    for source in sorted(sources, key=lambda s: s.path):
        task_dir = _task_dir(root, source.parts)
        for line, message, severity in source.parsed["issues"]:
            if NESTED_TASK in message and is_test_file(source.parts[-1]):
                continue  # a test that defines a task in a test function is testing, not defining one
            issues.append(Issue(source.path, line, message, severity))
            if severity == "error":
                dirs_with_errors.add(task_dir)
        if not source.parsed["tasks"]:
            continue
        dirs_with_tasks.add(task_dir)
        if task_dir not in req_cache:
            req_cache[task_dir] = _requirements(task_dir, requirements, issues)
        module = module_name(source.path, is_package)
        for raw in source.parsed["tasks"]:
            task = _task(raw, source.path, task_dir, req_cache[task_dir], module, root,
                         None if links is None else task_dir in links or source.path in links)
            tasks.append(task)
            issues.extend(Issue(source.path, ln, task_problem_message(task.name, msg), "error")
                          for ln, msg in raw["problems"])
            issues.extend(Issue(source.path, task.line, task_problem_message(task.name, p), "error")
                          for p in task.problems[len(raw["problems"]):])
    for task_dir in task_dirs:
        if task_dir not in dirs_with_tasks and task_dir not in dirs_with_errors:
            name = PurePosixPath(task_dir).name
            issues.append(Issue(task_dir, 0, f"task dir {name!r} has no @worker_task function: add one in "
                                f"{name}/{name}.py (`idflow tasks new NAME` scaffolds a task) or move the directory "
                                "out of the tasks dir", "error"))
    issues.extend(_duplicates(tasks))
    tasks.sort(key=lambda t: (t.path, t.line))
    issues.sort(key=lambda i: (i.path, i.line, i.severity))
    return Discovery(tasks, issues)


def _task(raw: dict[str, Any], path: str, task_dir: str, requirements: tuple[str, ...], module: str,
          layer: str = "", through_link: bool | None = None) -> DiscoveredTask:
    keywords = raw["keywords"]
    usable = keywords if not raw["problems"] else {k: v for k, v in keywords.items() if not keyword_type_errors({k: v})}
    wire = taskdef.build(raw["name"], usable, raw["docstring"])
    problems = tuple(msg for _, msg in raw["problems"]) + tuple(
        p if ";" in p else f"{p}; fix it in the @worker_task keywords" for p in validate(wire))
    return DiscoveredTask(name=raw["name"], function=raw["function"], path=path, line=raw["line"], task_dir=task_dir,
                          form=raw["form"], keywords=dict(keywords), worker_options=dict(raw["worker_options"]),
                          task_def=wire, requirements=requirements, problems=problems, module=module,
                          layer=layer, through_link=through_link)


def _duplicates(tasks: list[DiscoveredTask]) -> list[Issue]:
    first: dict[str, DiscoveredTask] = {}
    issues = []
    for task in sorted(tasks, key=lambda t: (t.path, t.line)):
        if task.name in first:
            other = first[task.name]
            issues.append(Issue(task.path, task.line,
                                f"task name {task.name!r} is defined twice: {other.path}:{other.line} and "
                                f"{task.path}:{task.line}; task names must be unique: rename one "
                                "(task_definition_name=...)", "error"))
        else:
            first[task.name] = task
    return issues


def _relative(path: str, root: str) -> PurePosixPath | None:
    pure = PurePosixPath(path)
    if root in ("", "."):
        return None if pure.is_absolute() else pure
    try:
        return pure.relative_to(root)
    except ValueError:
        return None


def _task_dir(root: str, parts: tuple[str, ...]) -> str:
    return _join(root, parts[0]) if len(parts) > 1 else root


def _join(root: str, rel: str) -> str:
    if not rel or rel == ".":
        return root
    return rel if root in ("", ".") else f"{root}/{rel}"


def _requirements(task_dir: str, requirements: dict[str, Any], issues: list[Issue]) -> tuple[str, ...]:
    path = _join(task_dir, REQUIREMENTS)
    content = requirements.get(path)
    if content is None:
        return ()
    if not isinstance(content, bytes):
        issues.append(Issue(path, content[0], content[1], "error"))
        return ()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        issues.append(Issue(path, line, "requirements.txt is not valid UTF-8; save it as UTF-8", "error"))
        return ()
    return parse_requirements(text)


def parse_requirements(text: str) -> tuple[str, ...]:
    """requirements.txt entries with comments and blank lines removed."""
    entries = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        for marker in (" #", "\t#"):
            index = stripped.find(marker)
            if index >= 0:
                stripped = stripped[:index].rstrip()
        if stripped:
            entries.append(stripped)
    return tuple(entries)


def module_name(path: str, is_package: Callable[[str], bool]) -> str:
    """Dotted module of a file whose packages reach up to the current directory, else the path itself.

    `idflow/tasks/x/x.py` is `idflow.tasks.x.x` only when idflow/, tasks/ and x/ all hold an
    `__init__.py` (importable with the project root on sys.path); a worker imports anything
    else by file path.
    """
    if path.startswith("/"):
        return path
    directory, filename = posixpath.split(path)
    parts = [] if filename == "__init__.py" else [filename[:-3] if filename.endswith(".py") else filename]
    while directory not in ("", ".") and is_package(directory):
        directory, name = posixpath.split(directory)
        parts.insert(0, name)
    if directory not in ("", ".") or not parts or not all(p.isidentifier() for p in parts):
        return path
    return ".".join(parts)


def _package_test(package_dirs: set[str], root: str) -> Callable[[str], bool]:
    """Inside the tasks dir the files decide; at the tasks dir and above, the file system does (read only)."""
    memo: dict[str, bool] = {}
    root_pure = PurePosixPath(root)

    def is_package(directory: str) -> bool:
        if directory in package_dirs:
            return True
        if directory not in memo:
            pure = PurePosixPath(directory)
            inside = pure != root_pure and (root in ("", ".") and not pure.is_absolute()
                                            or pure.is_relative_to(root_pure))
            memo[directory] = not inside and os.path.isfile(os.path.join(directory, "__init__.py"))
        return memo[directory]

    return is_package


def _unreadable(problem: tuple[int, str]) -> dict[str, Any]:
    return {"tasks": [], "issues": [[problem[0], problem[1], "error"]]}
