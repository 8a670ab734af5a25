"""How a use case runs its steps: directly (the CLI) or each as a retried Prefect task (the flows).

A use case is a short, fixed sequence of steps, each a plain function of plain data:
`discover`, `fetch_*` (I/O at the edge), `plan_*` (no server request; pure but for the Git some
read: `plan_upload`, `plan_rollback`), `apply_*`/`execute_*` (I/O at the edge). It calls every step through a `StepRunner`, so the flows run the very same sequence
with each step wrapped in its own Prefect task: one place decides what an operation does.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol, TypeVar

T = TypeVar("T")


class StepRunner(Protocol):
    def __call__(self, step: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


def direct(step: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run the step in-process, as it is: the CLI's runner."""
    return step(*args, **kwargs)


Confirm = Callable[[Any], None]
"""Called with a plan before anything destructive; raises RefusedError to decline."""
