"""Rewrite values inside a JSON text in place (pure): only the spans that change move, every other byte
stays, key order and indentation included. `tasks pull` does this for Python with libcst; event handler and
workflow files are JSON, so a small parser here records where each value starts and ends.

`rewrite(text, location, target)`: the value at `location` (keys and list indexes from the top) becomes
`target`. A changed scalar is replaced where it stands; a key the target adds is written after the
object's last member in that object's own style (the separator and indentation of its first member); a
key it drops is cut with its comma; a list whose length changes, or a value whose type changes, is
written anew, indented like the line it starts on.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WHITESPACE = " \t\n\r"
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass
class Member:
    """One member of a parsed JSON object: its key, where the key stands in the text, and its value."""
    key: str
    start: int                 # the key's opening quote
    key_end: int               # one past its closing quote
    value: "Node"


@dataclass
class Node:
    """One JSON value as parsed: where it starts and ends in the text, and its members or items."""
    start: int
    end: int                   # one past the value's last character
    members: list[Member] = field(default_factory=list)   # an object's, in file order
    items: list["Node"] = field(default_factory=list)     # an array's
    kind: str = "scalar"       # object | array | scalar


class JsonSyntax(ValueError):
    pass


def parse(text: str) -> Node:
    node, end = _value(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise JsonSyntax(f"extra data at offset {end}")
    return node


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _value(text: str, i: int) -> tuple[Node, int]:
    if i >= len(text):
        raise JsonSyntax("unexpected end of the text")
    char = text[i]
    if char == "{":
        return _object(text, i)
    if char == "[":
        return _array(text, i)
    if char == '"':
        _, end = _scanstring(text, i + 1)
        return Node(i, end), end
    for literal in ("true", "false", "null"):
        if text.startswith(literal, i):
            return Node(i, i + len(literal)), i + len(literal)
    match = _NUMBER.match(text, i)
    if not match:
        raise JsonSyntax(f"unexpected {char!r} at offset {i}")
    return Node(i, match.end()), match.end()


def _object(text: str, start: int) -> tuple[Node, int]:
    node = Node(start, start, kind="object")
    i = _skip(text, start + 1)
    if text[i:i + 1] == "}":
        node.end = i + 1
        return node, node.end
    while True:
        if text[i:i + 1] != '"':
            raise JsonSyntax(f"expected a key at offset {i}")
        key, after = _scanstring(text, i + 1)
        colon = _skip(text, after)
        if text[colon:colon + 1] != ":":
            raise JsonSyntax(f"expected ':' at offset {colon}")
        value, end = _value(text, _skip(text, colon + 1))
        node.members.append(Member(key, i, after, value))
        i = _skip(text, end)
        if text[i:i + 1] == "}":
            node.end = i + 1
            return node, node.end
        if text[i:i + 1] != ",":
            raise JsonSyntax(f"expected ',' or '}}' at offset {i}")
        i = _skip(text, i + 1)


def _array(text: str, start: int) -> tuple[Node, int]:
    node = Node(start, start, kind="array")
    i = _skip(text, start + 1)
    if text[i:i + 1] == "]":
        node.end = i + 1
        return node, node.end
    while True:
        value, end = _value(text, i)
        node.items.append(value)
        i = _skip(text, end)
        if text[i:i + 1] == "]":
            node.end = i + 1
            return node, node.end
        if text[i:i + 1] != ",":
            raise JsonSyntax(f"expected ',' or ']' at offset {i}")
        i = _skip(text, i + 1)


def same(a: Any, b: Any) -> bool:
    """Equal as JSON: 1 and true, or 1 and 1.0, are not the same value in a file."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


Edit = tuple[int, int, str]    # (start, end, replacement)


def rewrite(text: str, location: Sequence[str | int], target: Any, *, tree: Node | None = None) -> str:
    """`text` with the value at `location` turned into `target`, by the smallest edits."""
    return apply_edits(text, edits_for(text, location, target, tree=tree))


def edits_for(text: str, location: Sequence[str | int], target: Any, *, tree: Node | None = None) -> list[Edit]:
    node = tree or parse(text)
    current = json.loads(text)
    for step in location:
        if isinstance(step, int):
            node, current = node.items[step], current[step]
        else:
            node = next(m.value for m in node.members if m.key == step)
            current = current[step]
    edits: list[Edit] = []
    editor = _Editor(text, _indent_unit(text))
    editor.edit(node, current, target, edits, editor.one_line(node))
    return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    # From the end backwards; at one position a cut (longer span) goes before an insertion.
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _indent_unit(text: str) -> str | None:
    """The file's indentation step ('  ', '    ', a tab), None for a file on one line."""
    previous = 0
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if not stripped:
            continue
        width = len(line) - len(stripped)
        if width > previous:
            return line[previous:width]
        previous = width
    return None if "\n" not in text.strip() else "  "


class _Editor:
    def __init__(self, text: str, unit: str | None) -> None:
        self.text, self.unit = text, unit
        self.newline = "\r\n" if "\r\n" in text else "\n"

    def line_indent(self, position: int) -> str:
        begin = self.text.rfind("\n", 0, position) + 1
        line = self.text[begin:position]
        return line[:len(line) - len(line.lstrip(" \t"))]

    def one_line(self, node: Node) -> bool:
        return "\n" not in self.text[node.start:node.end]

    def render(self, value: Any, position: int, inline: bool = False) -> str:
        """A new value; on several lines, indented from `position`'s line, unless its container is on one."""
        if inline or self.unit is None or not isinstance(value, (dict, list)) or not value:
            return json.dumps(value, ensure_ascii=False)
        return json.dumps(value, ensure_ascii=False, indent=self.unit).replace("\n", self.newline + self.line_indent(position))

    def edit(self, node: Node, old: Any, new: Any, edits: list[Edit], inline: bool = False) -> None:
        if same(old, new):
            return
        if node.kind == "object" and isinstance(new, dict) and node.members:
            self.edit_object(node, old, new, edits)
        elif node.kind == "array" and isinstance(new, list) and len(new) == len(node.items):
            for item, before, after in zip(node.items, old, new):
                self.edit(item, before, after, edits, self.one_line(node))
        else:
            edits.append((node.start, node.end, self.render(new, node.start, inline)))

    def edit_object(self, node: Node, old: dict[str, Any], new: dict[str, Any], edits: list[Edit]) -> None:
        members = node.members
        inline = self.one_line(node)
        kept = [i for i, m in enumerate(members) if m.key in new]
        if not kept:
            edits.append((node.start, node.end, self.render(new, node.start, inline)))
            return
        for index, member in enumerate(members):
            if member.key in new:
                self.edit(member.value, old[member.key], new[member.key], edits, inline)
            elif index < kept[-1]:   # cut up to the next member's key: its comma and the space after go too
                edits.append((member.start, members[index + 1].start, ""))
        last = members[kept[-1]]
        if kept[-1] < len(members) - 1:  # the trailing members go, from the last kept value's end
            edits.append((last.value.end, members[-1].value.end, ""))
        added = [k for k in new if k not in old]
        if added:
            first = members[0]
            if len(members) > 1:
                joint = self.text[first.value.end:members[1].start]
            else:
                gap = self.text[node.start + 1:first.start]
                joint = "," + gap if "\n" in gap else ", "
            separator = self.text[first.key_end:first.value.start]
            edits.append((last.value.end, last.value.end, "".join(
                f"{joint}{json.dumps(k, ensure_ascii=False)}{separator}{self.render(new[k], first.start, inline)}"
                for k in added)))
