"""The Conductor HTTP client (httpx): typed metadata calls, auth, bounded retries."""
from idflow.conductor.client import ConductorClient, RequestStats, RetryPolicy

__all__ = ["ConductorClient", "RequestStats", "RetryPolicy"]
