"""Making foreign strings safe to show: terminal control characters and URL credentials.

Names, descriptions and error bodies come from the server or from files, so anyone
may have put an escape sequence in them: one OSC or CSI sequence can rewrite the
lines above a confirmation prompt, set the clipboard (OSC 52) or hide a link (OSC 8).
`terminal_safe` shows every control character as a visible escape instead of
dropping it, so what is printed still tells the names apart.
"""
from __future__ import annotations

import re
import unicodedata

# Format characters that reorder or hide text (bidi embeddings, overrides, isolates, marks)
# and the two Unicode line breaks; other format characters (e.g. ZWJ in emoji) are harmless.
_BIDI_AND_BREAKS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.\-]*:[/\\]+")


def _unsafe(char: str, keep_newlines: bool) -> bool:
    if char == "\n":
        return not keep_newlines
    if char in _BIDI_AND_BREAKS:
        return True
    return unicodedata.category(char) in ("Cc", "Cs")  # C0, DEL, C1; lone surrogates cannot even be encoded


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every terminal control character (ANSI CSI, OSC, C0, DEL, C1, bidi controls)
    shown as a visible escape (`\\x1b`, `\\u202e`); newlines kept only when asked."""
    if not isinstance(text, str):
        text = str(text)
    if text.isprintable() and text.isascii():  # the common case: nothing to do
        return text
    return "".join(_visible(c) if _unsafe(c, keep_newlines) else c for c in text)


def redact_url(url: str) -> str:
    """`url` without anything that could be credentials, however malformed it is.

    Everything between the scheme (if any) and the last '@' goes: `user:pw@host`,
    `ftp://u:p@h/` and `http://u:p@ss@h/` all lose their secrets. A URL with an '@'
    in its path loses more than it must; a message may do with that, a secret may not.
    """
    at = url.rfind("@")
    if at < 0:
        return url
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme and scheme.end() <= at else 0
    return url[:start] + url[at + 1:]


def without_userinfo(url: str) -> str:
    """A well-formed URL without its `user:password@` (see redact_url for any string)."""
    # Up to the authority's last '@', as httpx reads it: a raw '@' in a password is kept whole.
    return re.sub(r"//[^/?#]*@", "//", url, count=1)
