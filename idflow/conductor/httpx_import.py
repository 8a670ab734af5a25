"""httpx, imported on first use and without its command-line client.

`httpx/__init__` imports `httpx._main`, the `httpx` command, which pulls in click, rich
and pygments: about half of httpx's import time, for a CLI idflow never runs.
"""
from __future__ import annotations

import sys
from types import ModuleType


def import_httpx() -> ModuleType:
    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    blocked = "httpx._main" not in sys.modules
    if blocked:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # httpx then defines a stub main()
    try:
        import httpx
    finally:
        if blocked and sys.modules.get("httpx._main", ...) is None:
            del sys.modules["httpx._main"]  # a later, explicit `import httpx._main` still works
    return httpx
