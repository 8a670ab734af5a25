"""The file-system side of discovery: walking the tasks dir, reading files, the parse cache.

The walk follows symbolic links (teams link shared task dirs in) but detects loops,
reports files it cannot read instead of skipping them, and never reads a file over
the size limit. The cache maps a file's content hash to its parse result, so a
warm run only reads and hashes files.
"""
from __future__ import annotations

import errno
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from idflow.base.reading import Limits, virtual_root
from idflow.discovery.parsed import MAX_FILE_BYTES

try:  # CPython's own BLAKE2: importing hashlib loads OpenSSL, about 4 ms of every command that lists tasks
    from _blake2 import blake2b
except ImportError:  # another Python: the same function through hashlib
    from hashlib import blake2b

SKIP_DIRS = frozenset({"__pycache__", "node_modules"})
REQUIREMENTS = "requirements.txt"
# 2: decorated functions nested in a function are no tasks; 3: generators are refused; 4: keyed by BLAKE2b (was SHA-1)
CACHE_VERSION = 4
MAX_CACHE_ENTRIES = 200_000
CACHE_LIMITS = Limits(max_bytes=1 << 30)

Problem = tuple[int, str]            # (line, message) of an error
Content = Union[bytes, Problem]      # a file's bytes, or why they could not be read


def display_path(path: Path | str) -> str:
    """Posix path relative to the cwd when under it, else absolute (symlinks kept as written)."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute == cwd:
        return "."
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(absolute, cwd)).as_posix()
    return Path(absolute).as_posix()


@dataclass
class Walk:
    """What one walk of a tasks dir found: the task files' contents, requirements, packages and problems."""

    files: list[tuple[str, Content]] = field(default_factory=list)         # .py files, path relative to root
    requirements: list[tuple[str, Content]] = field(default_factory=list)  # <task dir>/requirements.txt
    package_dirs: list[str] = field(default_factory=list)                  # dirs with __init__.py ("" = root)
    task_dirs: list[str] = field(default_factory=list)                     # first-level dirs
    links: set[str] = field(default_factory=set)                           # symbolic links met (files and dirs)
    issues: list[tuple[str, int, str, str]] = field(default_factory=list)  # (rel path, line, message, severity)


def walk_tasks_dir(root: Path) -> Walk:
    walk = Walk()
    root_stat = os.stat(root)
    # Each stack entry carries the (device, inode) chain of its ancestors to spot loops.
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [(str(root), "", ((root_stat.st_dev, root_stat.st_ino),))]
    seen_dirs = {(root_stat.st_dev, root_stat.st_ino): ""}
    while stack:
        directory, rel_dir, chain = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            walk.issues.append((rel_dir, 0, f"cannot list directory: {exc.strerror}; fix its permissions", "error"))
            continue
        subdirs = []
        if rel_dir and "/" not in rel_dir and entries and all(_skipped(e.name) for e in entries):
            walk.issues.append((rel_dir, 0, "holds only caches or hidden files (left over from a moved or deleted "
                                            "task?): it is not read as a task dir; delete it", "warning"))
            walk.task_dirs.remove(rel_dir)
        for entry in entries:
            name = entry.name
            if _skipped(name):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                if entry.is_symlink():   # from the listing itself: provenance need not lstat every task
                    walk.links.add(rel)
                is_dir = entry.is_dir()  # follows symlinks
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                message = (f"symbolic link loop: {rel} points (through links) to itself; remove the link"
                           if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror}; fix or remove it")
                walk.issues.append((rel, 0, message, "error"))
                continue
            if not is_dir and not is_file:
                _special(entry, rel, walk)
                continue
            if is_dir:
                subdirs.append((entry, rel))
            elif name.endswith(".py"):
                walk.files.append((rel, _read(entry.path)))
                if name == "__init__.py":
                    walk.package_dirs.append(rel_dir)
            elif name == REQUIREMENTS and "/" not in rel_dir:  # the tasks dir's or a task dir's own
                walk.requirements.append((rel, _read(entry.path)))
        for entry, rel in reversed(subdirs):
            if entry.name.endswith(".py"):
                walk.issues.append((rel, 0, "is a directory named like a Python file: idflow cannot read it as a "
                                            "task file; rename it", "error"))
                continue
            try:
                st = os.stat(entry.path)
            except OSError as exc:
                walk.issues.append((rel, 0, f"cannot read directory: {exc.strerror}; fix or remove it", "error"))
                continue
            virtual = virtual_root(entry.path) if entry.is_symlink() else None
            if virtual:  # /proc/self/root is /: never walk the kernel's file systems
                walk.issues.append((rel, 0, f"is a link into {virtual}, a file system the kernel makes up: it is "
                                            "not read; remove the link", "error"))
                continue
            key = (st.st_dev, st.st_ino)
            if key in chain:
                walk.issues.append((rel, 0, f"symbolic link loop: {rel} points back to "
                                            f"{seen_dirs.get(key) or 'the tasks dir'}; remove the link", "error"))
                continue
            if key in seen_dirs:
                walk.issues.append((rel, 0, f"{rel} is the same directory as {seen_dirs[key]} (a symbolic link); "
                                            "it is read once, under its first name: remove the link", "warning"))
                continue
            seen_dirs[key] = rel
            if not rel_dir:
                walk.task_dirs.append(rel)
            stack.append((entry.path, rel, chain + (key,)))
    walk.task_dirs.sort()
    return walk


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS


def _special(entry: os.DirEntry, rel: str, walk: Walk) -> None:
    """A broken link, a link loop, a socket...: report it when it looks like something of ours."""
    looks_ours = rel.endswith(".py") or entry.name == REQUIREMENTS or "." not in entry.name
    if not entry.is_symlink():
        if rel.endswith(".py"):
            walk.issues.append((rel, 0, "is not a regular file; idflow cannot read it as a task file", "error"))
        return
    try:
        os.stat(entry.path)
        reason = None
    except OSError as exc:
        reason = exc.errno
    if reason == errno.ELOOP:
        walk.issues.append((rel, 0, f"symbolic link loop: {rel} points (through links) to itself; remove the link",
                            "error"))
    elif looks_ours:
        try:
            target = os.readlink(entry.path)
        except OSError:  # gone since it was listed (in /proc, say)
            target = "?"
        walk.issues.append((rel, 0, f"broken symbolic link to {target}: the target does not exist; fix or remove "
                                    "the link", "error"))


def _read(path: str) -> Content:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return 0, (f"file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit for task "
                           "files; move data out of the source file")
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return 0, f"cannot read file: {exc.strerror or exc}; fix its permissions or remove it"


class ParseCache:
    """Content hash -> parse result, kept as one JSON file in `cache_dir` (no cache without one)."""

    def __init__(self, cache_dir: Path | None) -> None:
        tag = f"v{CACHE_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}"
        self.path = Path(cache_dir) / f"discovery-{tag}.json" if cache_dir is not None else None
        self.entries: dict[str, Any] = {}
        self.used: dict[str, Any] = {}
        self.dirty = False
        if self.path is not None:
            data = _read_cache(self.path)
            if isinstance(data, dict) and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]

    def parse(self, content: bytes) -> dict[str, Any]:
        if self.path is None:
            return _parse(content)
        key = blake2b(content, digest_size=20).hexdigest()
        result = self.entries.get(key)
        if result is None:
            result = _parse(content)
            self.entries[key] = result
            self.dirty = True
        self.used[key] = result
        return result

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is only slower, never an error."""
        if self.path is None or not self.dirty:
            return
        entries = dict(self.used)
        for key, value in self.entries.items():
            if len(entries) >= MAX_CACHE_ENTRIES:
                break
            entries.setdefault(key, value)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": entries}, separators=(",", ":")))
            os.replace(tmp, self.path)
        except OSError:
            pass


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} in the parse cache")


def _read_cache(path: Path) -> Any:
    """The cache file's JSON, or None: missing, too big, not JSON, NaN, nested too deep or an
    integer too long. idflow wrote it, so it is read by the C decoder in one go (`read_json`'s
    checks, a Python call per number and a walk of the whole tree, took longer than the parse)."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > CACHE_LIMITS.max_bytes:
                return None
            return json.loads(handle.read(), parse_constant=_refuse_constant)
    except (OSError, ValueError, RecursionError):  # a cache that cannot be read is only slower: it is rebuilt
        return None


def _parse(content: bytes) -> dict[str, Any]:
    from idflow.discovery.parse import parse_source  # the parser, only for a file the cache does not hold

    return parse_source(content)
