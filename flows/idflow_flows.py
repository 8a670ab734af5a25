"""Entrypoints for `prefect.yaml` in this repository: the flows live in `idflow.flows`."""
from idflow.flows.definitions import FLOWS, diff, discover, purge_orphaned, status, sync, upload

__all__ = ["FLOWS", "diff", "discover", "purge_orphaned", "status", "sync", "upload"]
