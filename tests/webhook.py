"""A local HTTP endpoint that records the JSON bodies POSTed to it: the target of an alert."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


class Webhook:
    """A local HTTP endpoint that records every JSON body POSTed to it (the alert's target)."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(json.loads(body or b"null"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/idflow-drift"

    def start(self) -> "Webhook":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, found: Callable[[list[Any]], bool], deadline: float = 120.0) -> list[Any]:
        end = time.monotonic() + deadline
        while not found(list(self.received)):
            if time.monotonic() > end:
                raise TimeoutError(f"no matching alert in {deadline:.0f}s; received: {self.received}")
            time.sleep(0.5)
        return list(self.received)
