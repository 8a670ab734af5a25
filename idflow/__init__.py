"""idflow: Conductor task definitions as code.

`from idflow import worker_task` is the decorator task files use. It is loaded
lazily so that `import idflow` (and the CLI) stay fast and never import the
Conductor SDK or Prefect.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "worker_task"]


def __getattr__(name: str):
    if name == "worker_task":
        from idflow.worker.decorator import worker_task

        return worker_task
    raise AttributeError(f"module 'idflow' has no attribute {name!r}")
