"""The local task files' definitions: all that `tasks list --local` needs, without the upload's modules."""
from __future__ import annotations

from typing import Any

from idflow.usecases.session import state_dir


def discover(config: Any):
    """The local task files' definitions and problems (static: nothing is imported)."""
    from idflow.discovery.layers import discover_layers, present_layers

    return discover_layers(present_layers(config), cache_dir=state_dir(config) / "cache")
