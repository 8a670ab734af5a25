"""The labelled progress bar on stderr: `discovering`, `reading the server`, `uploading 3/10`."""
from __future__ import annotations

from typing import Any


class LabelledBar:
    """One transient rich bar whose label follows the phase the core reports; counts when a loop does."""

    def __init__(self, console: Any, label: str) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                             transient=True)
        self._task = self._bar.add_task(label, total=None)
        self._label = label
        self._shown = False

    def __enter__(self) -> "LabelledBar":
        self._show()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hide()

    def _show(self) -> None:
        if not self._shown:
            self._bar.start()
            self._shown = True

    def hide(self) -> None:
        """Off the screen (before a prompt); the next report draws it again."""
        if self._shown:
            self._bar.stop()
            self._shown = False

    def report(self, label: str, done: int | None, total: int | None) -> None:
        self._show()
        counted = total is not None and done is not None
        self._bar.update(self._task, description=f"{label} {done}/{total}" if counted else label,
                         completed=done or 0, total=total if counted else None)
        if label != self._label:  # a new phase is drawn at once, not at the next tick
            self._label = label
            self._bar.refresh()
