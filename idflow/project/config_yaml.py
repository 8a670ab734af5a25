"""Reading the YAML config file through `idflow.base.reading`, with the config's own bounds.

The reader refuses what is no config before any value is built: a file that is not
regular, over 1 MiB, not UTF-8, aliases expanding past a few thousand values (an alias
bomb: a type error's repr once took 100 s and 2.5 GB), duplicate keys, deep nesting,
over-long integers, NaN. Here the key lines are kept for the config's own messages.
"""
from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idflow.base.errors import ConfigError, InputFileError
from idflow.base.reading import CONFIG, decode, pyyaml, read_bytes, yaml_documents

if TYPE_CHECKING:  # PyYAML is imported on the first read: `idflow --help` reads no config
    import yaml

MAX_CONFIG_BYTES = CONFIG.max_bytes     # 1 MiB: a config is a few hundred bytes
MAX_EXPANDED_NODES = CONFIG.max_nodes   # scalars + collections, every alias counted each time it is used


@dataclass(frozen=True)
class YamlDocument:
    """A config file as read: its value, and the line of each key (for errors that point at it)."""

    data: Any                   # the loaded value (None for an empty file)
    lines: dict[str, int]       # line of each top-level key, and "conductor.<key>" under conductor


def short(value: Any, limit: int = 80) -> str:
    """A repr that never walks or prints a whole big value."""
    cut = reprlib.Repr()
    cut.maxstring, cut.maxother, cut.maxlong, cut.maxlist, cut.maxdict, cut.maxlevel = 60, 60, 30, 5, 5, 2
    try:
        text = cut.repr(value)
    except ValueError:  # an int too long to convert
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def read_yaml(path: Path, *, max_bytes: int = MAX_CONFIG_BYTES,
              max_nodes: int = MAX_EXPANDED_NODES) -> YamlDocument:
    """The config's one YAML document, read by the bounded reader every input file goes through."""
    limits = replace(CONFIG, max_bytes=max_bytes, max_nodes=max_nodes)
    try:
        text = decode(read_bytes(path, limits=limits, what="config file"), path, what="config file")
        flat = flat_mapping(text)
        if flat is not None:
            return flat
        documents = yaml_documents(text, path, limits=limits, what="config file", single=True)
    except InputFileError as exc:
        raise ConfigError(exc.message, hint=exc.hint or "a config is a small mapping of keys to values: "
                                                        "fix the file named above") from None
    if not documents:
        return YamlDocument(None, {})
    data, node = documents[0]
    return YamlDocument(data, _key_lines(node))


# A config of `key: value` lines only, each value a plain word YAML 1.1 reads as text, a decimal integer,
# true/false (and the other spellings PyYAML takes), or nothing (null): read without PyYAML (~10 ms to import,
# more than the rest of `tasks list --local`). Anything else (quotes, nesting, comments after a value, tabs,
# octal or `1_000`, anchors, a repeated key) goes to the full reader; tests/test_config.py holds the two equal.
_FLAT_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +([A-Za-z][A-Za-z0-9_.:/@+-]*|0|[1-9][0-9]{0,17}))? *")
_YAML_BOOLS = {**dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
               **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False)}
_YAML_NULLS = frozenset(("null", "Null", "NULL"))


def flat_mapping(text: str) -> YamlDocument | None:
    """The document of a config made only of `key: value` lines (see above), or None: read it in full."""
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if "\r" in text or "\t" in text:
        return None
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _FLAT_LINE.fullmatch(line)
        if match is None or match.group(1) in data:
            return None
        key, value = match.group(1), match.group(2)
        if value is None or value in _YAML_NULLS:
            data[key] = None
        elif value in _YAML_BOOLS:
            data[key] = _YAML_BOOLS[value]
        elif value[0].isdigit():
            data[key] = int(value)
        else:
            data[key] = value
        lines[key] = number
    return YamlDocument(data, lines) if data else None


def _key_lines(node: yaml.Node) -> dict[str, int]:
    """Line of each top-level key, of each key under `conductor` as "conductor.<key>", and under `environments`."""
    yaml = pyyaml()
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        lines.setdefault(key.value, key.start_mark.line + 1)
        if key.value == "conductor" and isinstance(value, yaml.MappingNode):
            for sub, _ in value.value:
                if isinstance(sub, yaml.ScalarNode):
                    lines.setdefault(f"conductor.{sub.value}", sub.start_mark.line + 1)
        if key.value == "environments" and isinstance(value, yaml.MappingNode):  # "environments.<name>[.<key>]"
            for name, entry in value.value:
                if not isinstance(name, yaml.ScalarNode):
                    continue
                lines.setdefault(f"environments.{name.value}", name.start_mark.line + 1)
                for sub, _ in entry.value if isinstance(entry, yaml.MappingNode) else ():
                    if isinstance(sub, yaml.ScalarNode):
                        lines.setdefault(f"environments.{name.value}.{sub.value}", sub.start_mark.line + 1)
    return lines
