"""Prefect entrypoints of this repository (`flows/idflow_flows.py:upload`); the flows live in `idflow.flows`."""
