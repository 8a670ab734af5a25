"""The local task files' definitions: all that `tasks list --local` needs, without the upload's modules."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from idflow.discovery.layers import discover_layers, present_layers


def discover(config: Any):
    """The local task files' definitions and problems (static: nothing is imported)."""
    return discover_layers(present_layers(config), cache_dir=state_dir(config) / "cache")


def state_dir(config: Any) -> Path:
    """The state dir (cache, backups); it ignores itself so it never makes a Git tree dirty."""
    path = config.resolve(config.state_dir)
    ignore = path / ".gitignore"
    if not ignore.exists():
        try:
            path.mkdir(parents=True, exist_ok=True)
            ignore.write_text("# written by idflow: cache and backups stay out of Git\n*\n", encoding="utf-8")
        except OSError:
            pass  # read-only checkout: discovery still works without a cache
    return path
