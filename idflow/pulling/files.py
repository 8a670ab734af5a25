"""Writing what came back from the server: new files never over an existing one, rewrites atomically."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def safe_stem(name: str) -> str:
    """A file or folder name for a definition name (letters, digits, '_', '-', '.'; never '.' or '..')."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "definition"
    return text[:120]


def write_new(path: str | Path, text: str) -> None:
    """Create `path` (and its folders); an existing file is never overwritten (FileExistsError)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as out:
        out.write(text)


def replace_text(path: str | Path, text: str) -> None:
    """Write `text` over `path` atomically (a temporary file beside it, then a rename)."""
    replace_bytes(path, text.encode("utf-8"))


def replace_bytes(path: str | Path, content: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".idflow-pull-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, os.stat(path).st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
