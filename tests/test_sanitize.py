"""terminal_safe: no control character from the server or a file reaches the terminal raw."""
from __future__ import annotations

import unicodedata

import pytest

from idflow.base.sanitize import redact_url, terminal_safe

HOSTILE = {
    "ANSI erase screen": ("a\x1b[2Jb", "a\\x1b[2Jb"),
    "ANSI cursor up + erase line": ("x\x1b[1A\x1b[2Ky", "x\\x1b[1A\\x1b[2Ky"),
    "OSC 8 hyperlink": ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
                        "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\"),
    "OSC 52 clipboard": ("\x1b]52;c;cm0gLXJmIH4=\x07", "\\x1b]52;c;cm0gLXJmIH4=\\x07"),
    "BEL": ("ding\x07", "ding\\x07"),
    "carriage return": ("safe\rEVIL", "safe\\x0dEVIL"),
    "backspace": ("abc\x08\x08\x08xyz", "abc\\x08\\x08\\x08xyz"),
    "NUL and DEL": ("a\x00b\x7f", "a\\x00b\\x7f"),
    "C1 CSI": ("a\x9b2Jb", "a\\x9b2Jb"),
    "C1 NEL": ("a\x85b", "a\\x85b"),
    "bidi override": ("file\u202etxt.exe", "file\\u202etxt.exe"),
    "bidi isolates": ("\u2066a\u2067b\u2068c\u2069", "\\u2066a\\u2067b\\u2068c\\u2069"),
    "bidi marks": ("\u200ex\u200f\u061c", "\\u200ex\\u200f\\u061c"),
    "unicode line separators": ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
    "lone surrogate": ("a\ud800b", "a\\ud800b"),
    "newline by default": ("one\ntwo", "one\\x0atwo"),
    "tab": ("a\tb", "a\\x09b"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_control_characters_are_shown_not_obeyed(case):
    text, expected = HOSTILE[case]
    safe = terminal_safe(text)
    assert safe == expected
    assert all(unicodedata.category(c) not in ("Cc", "Cs") for c in safe)
    safe.encode("utf-8")  # printable on any UTF-8 terminal


def test_newlines_are_kept_only_when_asked():
    assert terminal_safe("one\ntwo\r\n", keep_newlines=True) == "one\ntwo\\x0d\n"
    assert terminal_safe("one\x1b[2J\n", keep_newlines=True) == "one\\x1b[2J\n"


@pytest.mark.parametrize("text", ["plain_name", "über-naïve", "名前", "emoji 👩\u200d💻", "a\\x1b literal", ""])
def test_harmless_text_is_unchanged(text):
    assert terminal_safe(text) == text


def test_every_c0_and_c1_character_is_neutralised():
    every = "".join(chr(c) for c in list(range(0x20)) + [0x7f] + list(range(0x80, 0xa0)))
    safe = terminal_safe(every)
    assert "\x1b" not in safe and all(c.isprintable() for c in safe)


@pytest.mark.parametrize("url,expected", [
    ("user:pw@host:8080/api", "host:8080/api"),
    ("ftp://u:pw@h/", "ftp://h/"),
    ("http://u:p@ss@h/api", "http://h/api"),
    ("http:/u:pw@h/api", "http:/h/api"),
    ("//u:pw@h/api", "h/api"),
    ("http://h:8080/api", "http://h:8080/api"),
])
def test_redact_url_drops_everything_up_to_the_last_at(url, expected):
    assert redact_url(url) == expected
