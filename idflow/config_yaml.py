"""Reading a YAML config file with bounds: size, alias expansion, nesting, duplicate keys.

PyYAML shares aliased nodes, so a "billion laughs" file loads fast; the cost comes
later, when anything walks or prints the value (a type error's repr took 100 s and
2.5 GB). So the expanded size is counted on the composed node graph, before any
value is built, and a file that would expand past a few thousand nodes is refused.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idflow.errors import ConfigError

if TYPE_CHECKING:  # PyYAML is imported on the first read: `idflow --help` reads no config
    import yaml

MAX_CONFIG_BYTES = 1 << 20   # 1 MiB: a config is a few hundred bytes
MAX_EXPANDED_NODES = 10_000  # scalars + collections, every alias counted each time it is used
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlDocument:
    data: Any                   # the loaded value (None for an empty file)
    lines: dict[str, int]       # line of each top-level key, and "conductor.<key>" under conductor


@lru_cache(maxsize=None)
def _bounded_loader() -> type:
    """A SafeLoader that refuses duplicate keys, naming both lines."""
    import yaml
    from yaml.composer import ComposerError

    class BoundedLoader(yaml.SafeLoader):
        def compose_mapping_node(self, anchor):  # type: ignore[override]
            node = super().compose_mapping_node(anchor)
            seen: dict[tuple[str, str], int] = {}
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == MERGE_TAG:
                    continue
                if (key.tag, key.value) in seen:
                    raise ComposerError(None, None, f"duplicate key {short(key.value)} (first on line "
                                        f"{seen[key.tag, key.value]}); the later one would silently win",
                                        key.start_mark)
                seen[key.tag, key.value] = key.start_mark.line + 1
            return node

    return BoundedLoader


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
    if not path.is_file():
        raise ConfigError(f"config file {path} is not a regular file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    if len(raw) > max_bytes:
        raise ConfigError(f"config file {path} is larger than {max_bytes // 1024} KiB; nothing was read",
                          hint="a config holds a few keys: check that the path names the right file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    import yaml

    loader = _bounded_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, {})
        _check_expansion(node, path, max_nodes)
        return YamlDocument(loader.construct_document(node), _key_lines(node))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or short(str(exc), 200)}",
                          hint="fix the YAML syntax (indentation, quotes, colons)") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply",
                          hint="a config is a flat mapping of keys to values") from None
    except ValueError as exc:  # e.g. an int of more than 4300 digits
        raise ConfigError(f"{path}: invalid YAML: a value cannot be read ({short(str(exc), 120)})") from None
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: yaml.Node, path: Path, limit: int) -> None:
    """Refuse a graph whose expansion (each alias counted where used) exceeds `limit` nodes, or a cycle."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > limit:
                raise ConfigError(f"{path}:{node.start_mark.line + 1}: invalid YAML: aliases expand to more than "
                                  f"{limit:,} values (an alias bomb?); nothing was read",
                                  hint="a config holds a few keys: remove the anchors (&) and aliases (*)")
            continue
        if key in sizes:
            continue
        if key in visiting:  # only an ancestor can still be open in a depth-first walk
            raise ConfigError(f"{path}:{node.start_mark.line + 1}: invalid YAML: an alias refers to itself",
                              hint="remove the recursive anchor (&) / alias (*)")
        visiting.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def _key_lines(node: yaml.Node) -> dict[str, int]:
    """Line of each top-level key, of each key under `conductor` as "conductor.<key>", and under `environments`."""
    import yaml

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
