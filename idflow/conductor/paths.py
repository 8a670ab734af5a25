"""Names in URL paths: encode every byte, and know which names the server cannot address.

Conductor stores any string as a task or workflow name (the name travels in a JSON
body), but reads and deletes put the name in the URL path. A segment that is not
encoded exactly addresses another definition: `x#old` sent raw deletes `x`.

Measured against Conductor OSS 3.32.3 (embedded Tomcat) with every byte 0x00-0x7F
encoded alone in `GET /api/metadata/taskdefs/a%XXb`, and each name below stored with
POST/PUT and then read and deleted through its encoded path:
- reaches the controller as exactly the name (read and delete work): `#`, `?`, `%`,
  `;`, `.`, `..`, a name that is only `.` or `..` (sent as %2E, never as a literal dot
  segment, which clients and servers remove), space, tab, newline, quotes, `&`, `+`,
  `:`, `|`, `{`, `[`, `^`, backtick, non-ASCII (é, 中, an emoji), and every other byte;
- answered 400 by Tomcat before Conductor sees it, so a definition with such a name
  can be stored but never read or deleted by name: `/` (%2F), `\\` (%5C), NUL (%00);
- a request line over about 8 KB is answered 400 as well.
"""
from __future__ import annotations

from urllib.parse import quote

from idflow.base.errors import UnaddressableName

# Characters the server refuses in an encoded path, with what the user should know.
REFUSED_CHARACTERS = {"/": "a slash", "\\": "a backslash", "\x00": "a NUL character"}
# The request line is limited to about 8 KB; leave room for the rest of the URL.
MAX_ENCODED_SEGMENT = 4096


def addressable(name: object) -> str | None:
    """Why `name` cannot be read or deleted exactly on the server by its URL path (None: it can)."""
    if not isinstance(name, str) or not name:
        return "the name is empty"
    for char, what in REFUSED_CHARACTERS.items():
        if char in name:
            return f"the name contains {what}, which the server rejects in a URL path"
    try:
        length = len(_encode(name))
    except UnicodeEncodeError:
        return "the name is not valid Unicode (a lone surrogate), so it has no UTF-8 form"
    if length > MAX_ENCODED_SEGMENT:
        return f"the name is {length} bytes long once encoded; the server accepts at most about 8 KB per request line"
    return None


def segment(value: str | int) -> str:
    """One path segment, percent-encoded with nothing left safe; refuses a name the server cannot address."""
    text = str(value)
    reason = addressable(text)
    if reason:
        raise UnaddressableName([(text, reason)])
    return _encode(text)


def _encode(text: str) -> str:
    # quote() never encodes unreserved characters; "." must be, or "." and ".." become dot segments.
    return quote(text, safe="", errors="strict").replace(".", "%2E")
