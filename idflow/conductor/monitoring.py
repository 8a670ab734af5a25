"""The Conductor client's monitoring reads: queues, poll data, the task search (`tasks status`).

Each answers for every task type at once; `idflow.project.protection.READ_METHODS` lists them.
"""
from __future__ import annotations

from typing import Any

from idflow.base.errors import ServerError


class MonitoringReads:
    """Mixed into `ConductorClient`, whose `_request` sends (auth, retries, error mapping)."""

    _request: Any

    def queue_sizes(self) -> dict[str, int]:
        """Pending tasks by queue (task type, `domain:type`, and the server's own `_...` queues)."""
        body = self._request("GET", "/tasks/queue/all")
        return {str(k): int(v) for k, v in body.items() if isinstance(v, int)} if isinstance(body, dict) else {}

    def poll_data(self, task_type: str | None = None) -> list[dict[str, Any]]:
        """Who polled what, and when (epoch ms): every task type at once, or one."""
        body = (self._request("GET", "/tasks/queue/polldata/all") if task_type is None else
                self._request("GET", "/tasks/queue/polldata", params={"taskType": task_type}))
        return [p for p in body if isinstance(p, dict)] if isinstance(body, list) else []

    def search_tasks(self, query: str = "", *, start: int = 0, size: int = 1000,
                     sort: str | None = None) -> dict[str, Any]:
        """`GET /tasks/search`: {totalHits, results}; empty where the server indexes nothing."""
        params = {"start": start, "size": size, "freeText": "*", **({"query": query} if query else {}),
                  **({"sort": sort} if sort else {})}
        body = self._request("GET", "/tasks/search", params=params)
        if not isinstance(body, dict) or not isinstance(body.get("results", []), list):
            raise ServerError(f"GET /tasks/search: the answer is not a search result (a JSON {type(body).__name__})")
        return body
