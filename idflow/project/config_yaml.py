"""Reading the YAML config file through `idflow.base.reading`, with the config's own bounds.

The reader refuses what is no config before any value is built: a file that is not
regular, over 1 MiB, not UTF-8, aliases expanding past a few thousand values (an alias
bomb: a type error's repr once took 100 s and 2.5 GB), duplicate keys, deep nesting,
over-long integers, NaN. Here the key lines are kept for the config's own messages.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idflow.base.errors import ConfigError, InputFileError
from idflow.base.reading import CONFIG, pyyaml
from idflow.base.reading import read_yaml as read_documents

if TYPE_CHECKING:  # PyYAML is imported on the first read: `idflow --help` reads no config
    import yaml

MAX_CONFIG_BYTES = CONFIG.max_bytes     # 1 MiB: a config is a few hundred bytes
MAX_EXPANDED_NODES = CONFIG.max_nodes   # scalars + collections, every alias counted each time it is used


@dataclass(frozen=True)
class YamlDocument:
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
        documents = read_documents(path, limits=limits, what="config file", single=True)
    except InputFileError as exc:
        raise ConfigError(exc.message, hint=exc.hint or "a config is a small mapping of keys to values: "
                                                        "fix the file named above") from None
    if not documents:
        return YamlDocument(None, {})
    data, node = documents[0]
    return YamlDocument(data, _key_lines(node))


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
