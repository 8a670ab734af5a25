"""One bounded reader for every JSON and YAML file idflow reads.

Workflow and event-handler files, saved plans, backups, the config, `--input @file`: each
goes through `read_bytes` (a regular file only, never a FIFO, device or directory; a size
limit), `decode` (UTF-8), then `load_json` or `yaml_documents`. What comes out is plain JSON
data: dicts with string keys, lists, strings, finite numbers, booleans and None, no deeper
than `max_depth`, with no integer longer than `max_int_digits`. Anything else is an
`InputFileError` naming the file, the line where one is known, and the problem.

PyYAML shares aliased nodes, so a "billion laughs" file loads fast; the cost comes later,
when anything walks, prints or sends the value. So the expanded size is counted on the
composed node graph, before any value is built.
"""
from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idflow.base.errors import InputFileError

if TYPE_CHECKING:  # PyYAML is imported on the first YAML read: `idflow --help` reads none
    import yaml


@dataclass(frozen=True)
class Limits:
    """How much of an input file idflow reads before refusing it: bytes, nesting, values, digits."""

    max_bytes: int = 64 << 20        # a definitions file; backups get more (see BACKUP)
    max_depth: int = 128             # nesting of lists and mappings
    max_nodes: int = 1_000_000       # YAML values after alias expansion (each alias counted where used)
    max_int_digits: int = 100        # Conductor's numbers are Java ints and longs: 19 digits at most


DEFINITIONS = Limits()
CONFIG = Limits(max_bytes=1 << 20, max_nodes=10_000)
BACKUP = Limits(max_bytes=1 << 30)   # a backup of 10,000 workflows is ~250 MB (conductor-oss #844)

VIRTUAL_ROOTS = ("/proc", "/sys")   # made up by the kernel: endless, changing, links back to /
MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map",
                                                  "timestamp", "merge")}
_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|(-?(?:Infinity|NaN)|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')


def what_it_is(mode: int) -> str:
    """A file type in words: 'a directory', 'a FIFO (named pipe)', ..."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def virtual_root(path: str | Path) -> str | None:
    """The kernel file system (/proc, /sys) `path` really is in, if any."""
    real = os.path.realpath(path)
    return next((v for v in VIRTUAL_ROOTS if real == v or real.startswith(v + "/")), None)


def read_bytes(path: str | Path, *, limits: Limits = DEFINITIONS, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limits.max_bytes`; never blocks on a FIFO or device."""
    try:
        st = os.stat(path)
    except OSError as exc:
        problem = "cannot read file: " + ("a loop of symbolic links" if exc.errno == errno.ELOOP
                                          else "it does not exist" if exc.errno == errno.ENOENT
                                          else str(exc.strerror or exc))
        raise InputFileError(path, problem, what=what) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(path, f"is {what_it_is(st.st_mode)}, not a regular file; nothing was read",
                             what=what, hint="name a file")
    too_big = InputFileError(path, f"is larger than {_size(limits.max_bytes)}; nothing was read", what=what,
                             hint="check that the path names the right file")
    if st.st_size > limits.max_bytes:
        raise too_big
    try:  # O_NONBLOCK: should the file be swapped for a FIFO after the stat, opening it does not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror or exc}", what=what) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputFileError(path, "is not a regular file; nothing was read", what=what)
        chunks, size = [], 0
        while size <= limits.max_bytes:  # st_size can be 0 for /proc files: read to the end, bounded
            chunk = os.read(fd, min(1 << 20, limits.max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror or exc}", what=what) from None
    finally:
        os.close(fd)
    if size > limits.max_bytes:
        raise too_big
    return b"".join(chunks)


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 else f"{count >> 10} KiB"


def decode(raw: bytes, path: str | Path, *, what: str = "file") -> str:
    """UTF-8 text (a byte-order mark is dropped); an InputFileError names the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "not UTF-8 text", line=raw[:exc.start].count(b"\n") + 1, what=what) from None


# ---- JSON --------------------------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, problem: str, token: str) -> None:
        super().__init__(problem)
        self.problem, self.token = problem, token


def load_json(text: str, path: str | Path, *, limits: Limits = DEFINITIONS, what: str = "file") -> Any:
    """One JSON document: finite numbers only, integers of bounded length, bounded depth."""
    try:
        data = bounded_decoder(limits).decode(text)
    except _Refused as exc:
        raise InputFileError(path, exc.problem, line=_line_of(text, exc.token), what=what) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno,
                             what=what) from None
    except RecursionError:
        raise InputFileError(path, f"invalid JSON: nested too deeply (more than {limits.max_depth} levels)",
                             what=what) from None
    if _depth(data) > limits.max_depth:
        raise InputFileError(path, f"invalid JSON: nested too deeply (more than {limits.max_depth} levels)",
                             what=what)
    return data


@lru_cache(maxsize=None)
def bounded_decoder(limits: Limits = DEFINITIONS) -> json.JSONDecoder:
    def parse_int(token: str) -> int:
        digits = len(token.lstrip("-"))
        if digits > limits.max_int_digits:
            raise _Refused(f"an integer of {digits:,} digits (more than {limits.max_int_digits}): "
                           "no definition field holds such a number", token)
        return int(token)

    def parse_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            raise _Refused(f"the number {token[:40]} is too large: it reads as infinity", token)
        return value

    def parse_constant(token: str) -> float:
        raise _Refused(f"{token} is not a JSON number: only finite numbers are allowed "
                       "(JSON and Conductor have no NaN or Infinity)", token)

    return json.JSONDecoder(parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)


def _line_of(text: str, token: str) -> int:
    """The line of the first number token `token` outside a string (0: not found)."""
    for match in _NUMBER.finditer(text):
        if match.group(1) == token:
            return text.count("\n", 0, match.start()) + 1
    return 0


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def json_item_lines(text: str, count: int, limits: Limits = DEFINITIONS) -> list[int]:
    """The line each element of a (valid) top-level JSON array starts on."""
    decoder = bounded_decoder(limits)
    lines: list[int] = []
    pos, line = text.index("[") + 1, text.count("\n", 0, text.index("[")) + 1
    for _ in range(count):
        start = pos
        while start < len(text) and text[start] in " \t\r\n,":
            start += 1
        line += text.count("\n", pos, start)
        lines.append(line)
        _, end = decoder.raw_decode(text, start)
        line += text.count("\n", start, end)
        pos = end
    return lines


def read_json(path: str | Path, *, limits: Limits = DEFINITIONS, what: str = "file") -> Any:
    """A JSON file read whole, through every check; an empty file is an InputFileError."""
    text = decode(read_bytes(path, limits=limits, what=what), path, what=what)
    if not text.strip():
        raise InputFileError(path, "empty file: expected a JSON document", what=what)
    return load_json(text, path, limits=limits, what=what)


# ---- YAML --------------------------------------------------------------------------------------
def pyyaml() -> Any:
    """PyYAML, imported on the first YAML read (the seam that keeps it off `idflow --help` and every module import)."""
    import yaml

    return yaml


def _fast_loader() -> type:
    """libyaml's parser and composer when PyYAML has them (ten times faster), else the pure-Python ones."""
    yaml = pyyaml()
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=None)
def bounded_loader() -> type:
    """A safe loader that reads every scalar key and every timestamp as the text written (JSON has neither)
    and builds nothing but JSON values; `_check_nodes` refuses the rest before construction."""
    yaml = pyyaml()
    class BoundedLoader(_fast_loader()):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node, deep=False):  # type: ignore[override]
            self.flatten_mapping(node)
            mapping = {}
            for key_node, value_node in node.value:
                mapping[str(key_node.value)] = self.construct_object(value_node, deep=deep)
            return mapping

    BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
    return BoundedLoader


def yaml_documents(text: str, path: str | Path, *, limits: Limits = DEFINITIONS, what: str = "file",
                   single: bool = False) -> list[tuple[Any, "yaml.Node"]]:
    """Each non-empty document of a YAML stream with its root node (one at most when `single`)."""
    yaml = pyyaml()
    documents: list[tuple[Any, yaml.Node]] = []
    _check_event_depth(text, path, limits, what)
    loader = bounded_loader()(text)
    try:
        if single:
            node = loader.get_single_node()
            nodes = [node] if node is not None else []
        else:
            nodes = []
            while loader.check_node():
                nodes.append(loader.get_node())
        for node in nodes:
            _check_nodes(node, path, limits, what, loader)
            data = loader.construct_document(node)
            if data is not None:
                documents.append((data, node))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputFileError(path, f"invalid YAML: {problem[:200]}", line=mark.line + 1 if mark else 0,
                             what=what) from None
    except RecursionError:
        raise InputFileError(path, f"invalid YAML: nested too deeply (more than {limits.max_depth} levels)",
                             what=what) from None
    finally:
        loader.dispose()
    return documents


def _check_event_depth(text: str, path: str | Path, limits: Limits, what: str) -> None:
    """Refuse deep nesting on the parser's events (an iterative pass) before the recursive composer runs:
    3,000 nested brackets would otherwise cost seconds of recursion before a RecursionError."""
    yaml = pyyaml()
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_fast_loader()):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > limits.max_depth:
                    raise InputFileError(path, f"invalid YAML: nested too deeply (more than {limits.max_depth} "
                                               "levels)", line=event.start_mark.line + 1, what=what)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the full read reports it, with its line


def read_yaml(path: str | Path, *, limits: Limits = DEFINITIONS, what: str = "file",
              single: bool = False) -> list[tuple[Any, "yaml.Node"]]:
    return yaml_documents(decode(read_bytes(path, limits=limits, what=what), path, what=what), path,
                          limits=limits, what=what, single=single)


def _children(node: "yaml.Node") -> list["yaml.Node"]:
    yaml = pyyaml()
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_nodes(root: "yaml.Node", path: str | Path, limits: Limits, what: str, loader: Any) -> None:
    """Refuse, before any value is built: an expansion past `max_nodes`, a cycle, nesting past
    `max_depth`, a tag that is no JSON value, a key that is no scalar, a too-long or non-finite number."""
    yaml = pyyaml()
    def refuse(node: yaml.Node, problem: str, hint: str | None = None) -> InputFileError:
        return InputFileError(path, f"invalid YAML: {problem}", line=node.start_mark.line + 1, what=what, hint=hint)

    sizes: dict[int, tuple[int, int]] = {}   # id -> (expanded size, depth)
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            visiting.discard(key)
            below = [sizes[id(c)] for c in _children(node)]
            size, depth = 1 + sum(s for s, _ in below), 1 + max((d for _, d in below), default=0)
            sizes[key] = (size, depth)
            if size > limits.max_nodes:
                raise refuse(node, f"aliases expand to more than {limits.max_nodes:,} values (an alias bomb?); "
                                   "nothing was read", "remove the anchors (&) and aliases (*)")
            if depth > limits.max_depth + 1:
                raise refuse(node, f"nested too deeply (more than {limits.max_depth} levels)")
            continue
        if key in sizes:
            continue
        if key in visiting:  # only an ancestor can still be open in a depth-first walk
            raise refuse(node, "an alias refers to itself", "remove the recursive anchor (&) / alias (*)")
        if node.tag not in _PLAIN_TAGS:
            raise refuse(node, f"the tag {node.tag[:60]} makes a value JSON does not have; "
                               "only mappings, lists, strings, numbers, true/false and null are read")
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise refuse(key_node, "a mapping key that is a list or a mapping; keys must be text")
                if key_node.tag == MERGE_TAG:
                    continue
                if key_node.value in seen:
                    raise refuse(key_node, f"duplicate key {key_node.value[:60]!r} (first on line "
                                           f"{seen[key_node.value]}); the later one would silently win")
                seen[key_node.value] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.ScalarNode):
            _check_scalar(node, loader, refuse, limits)
        visiting.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def _check_scalar(node: Any, loader: Any, refuse: Any, limits: Limits) -> None:
    if node.tag.endswith(":int"):
        digits = len(re.sub(r"[^0-9a-fA-F]", "", node.value.removeprefix("-").removeprefix("+")))
        if digits > limits.max_int_digits:
            raise refuse(node, f"an integer of {digits:,} digits (more than {limits.max_int_digits}): "
                               "no definition field holds such a number")
    elif node.tag.endswith(":float") and not math.isfinite(loader.construct_yaml_float(node)):
        raise refuse(node, f"{node.value[:40]} is not a finite number: JSON and Conductor have no NaN or "
                           "Infinity", "quote it if it is meant as text")
