"""Discovery: task files -> desired TaskDefs, read statically (never imported).

`walk` finds the files of a tasks dir, `parse` reads each with `ast`, `evaluate` turns
decorator keywords into values, `assemble` builds the `Discovery`, `layers` stacks
several tasks dirs (a later one overrides an earlier one's task of the same name).
"""
from idflow.discovery.assemble import DiscoveredTask, Discovery, Issue, discover, discover_sources, parse_requirements
from idflow.discovery.layers import discover_layers, task_layers
from idflow.discovery.walk import display_path

__all__ = ["DiscoveredTask", "Discovery", "Issue", "discover", "discover_layers", "discover_sources", "display_path",
           "parse_requirements", "task_layers"]
