"""Ctrl-C and SIGTERM while idflow writes: finish the request in flight, stop, and account.

Outside a write loop a signal stops the command at once (nothing is half done there).
Inside one (a loop runs under `writing()`), the first signal only sets a flag: the loop
checks `requested` before each request, stops, and reports what it wrote, what failed
and what it never attempted; the command then prints that account and exits 128+signal
(130 for SIGINT, 143 for SIGTERM). A second signal stops at once.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from idflow.base.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interruption:
    """The stop flag a signal handler sets and the core's write loops read."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self._writing = 0
        self._lock = threading.Lock()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def exit_code(self) -> int | None:
        return 128 + self.signum if self.signum is not None else None

    @contextmanager
    def writing(self) -> Iterator["Interruption"]:
        """Within this block a signal defers to the loop's next check."""
        with self._lock:
            self._writing += 1
        try:
            yield self
        finally:
            with self._lock:
                self._writing -= 1

    def on_signal(self, signum: int, frame: Any = None) -> None:
        if self._writing and not self._event.is_set():
            self.signum = signum
            self._event.set()
            return
        self.signum = signum
        raise Interrupted(signum)

    def install(self) -> Callable[[], None]:
        """Handle SIGINT and SIGTERM (main thread only); returns a function putting the old handlers back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.signal(sig, self.on_signal) for sig in SIGNALS}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return restore


@contextmanager
def writing(interruption: Interruption | None) -> Iterator[Interruption | None]:
    """`interruption.writing()`, or nothing to check when no one handles signals (a flow run, a test)."""
    if interruption is None:
        yield None
        return
    with interruption.writing():
        yield interruption


def requested(interruption: Interruption | None) -> bool:
    return interruption is not None and interruption.requested
