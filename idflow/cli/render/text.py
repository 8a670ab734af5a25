"""The one way a foreign string reaches rich markup, and the small text helpers every view shares.

Names, descriptions, paths, commit subjects and error bodies come from the server or
from files. `safe` shows their control characters as visible escapes (so an ANSI or
OSC sequence cannot move the cursor, erase lines or set the clipboard) and escapes
rich markup (so `[green]` in a name is printed, not obeyed).
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

from idflow.base.sanitize import terminal_safe

# Beyond this many names a view counts instead of listing, and points to --json.
MAX_NAMES_LISTED = 30

_DIGITS = re.compile(r"(\d+)")
_MARKUP_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")   # what rich reads as a tag, and the backslashes before it


def escape(markup: str) -> str:
    """rich.markup.escape without loading rich (tests/test_plain_table.py holds the two equal): a `[` that
    could open a tag gets a backslash, and so does each backslash before it."""
    markup = _MARKUP_TAG.sub(lambda found: f"{found.group(1)}{found.group(1)}\\{found.group(2)}", markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup


def safe(value: Any) -> str:
    """`value` as text that is safe inside rich markup and on a terminal."""
    return escape(terminal_safe(str(value)))


def plain(value: Any) -> str:
    """`value` safe on a terminal, for rich objects that take text, not markup (Text, titles)."""
    return terminal_safe(str(value))


def json_value(value: Any) -> str:
    """A field's value as JSON (`"ALERT_ONLY"`, `60`, `null` as `(unset)`), safe in markup."""
    if value is None:
        return "(unset)"
    return safe(json.dumps(value, ensure_ascii=False, default=str))


def natural_key(name: Any) -> tuple[tuple[Any, ...], str]:
    """Sort key that puts `t2` before `t10`: digit runs compare as numbers (the split
    alternates text and digits, so equal positions always hold the same type)."""
    text = str(name)
    parts = _DIGITS.split(text)
    if len(parts) == 1:  # no digits
        return (text.casefold(),), text
    parts[1::2] = map(int, parts[1::2])
    parts[::2] = map(str.casefold, parts[::2])
    return tuple(parts), text


def natural(names: Iterable[Any]) -> list[Any]:
    return sorted(names, key=natural_key)


def name_list(names: Iterable[Any], *, limit: int = MAX_NAMES_LISTED) -> str:
    """Names sorted naturally and comma-separated, safe in markup; beyond `limit`, the first
    ones and a count of the rest (the full list is in --json)."""
    ordered = natural(names)
    shown = ", ".join(safe(n) for n in ordered[:limit])
    if len(ordered) > limit:
        shown += f" ... and {len(ordered) - limit} more (--json lists them all)"
    return shown
