"""Prefect flows for idflow: the core operations, one Prefect task per step.

`flows.idflow_flows` holds the flows (and imports Prefect); `flows.steps` the
tasks; `flows.artifacts` the markdown builders (no Prefect). Importing this
package imports nothing heavy.
"""
