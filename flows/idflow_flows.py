"""Entrypoints for `prefect.yaml` in this repository (`flows/idflow_flows.py:NAME`): every flow of
`idflow.flows.definitions.FLOWS`, one per operation of the registry (idflow.usecases.registry)."""
from idflow.flows.definitions import FLOWS

globals().update(FLOWS)
__all__ = ["FLOWS", *FLOWS]
