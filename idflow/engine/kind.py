"""What a kind of definition (task definitions, event handlers, workflows) tells the generic machinery.

Each kind module (taskdefs/kind.py, events/kind.py, workflowdefs/kind.py) declares one `Kind`;
backup, restore and the write engine work on any of them through it. Adding a kind is one
module that declares these, plus its tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from idflow.engine.write import Endpoint, Ref

Definition = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """One kind of definition (task definitions, event handlers, workflows) as backup, restore and writes see it."""
    name: str                                        # the backup key and folder: "taskdefs", "workflows", ...
    noun: str                                        # "task definition", for messages
    ref: Callable[[Definition], Ref]                 # the identity of one object: a name, or {"name", "version"}
    read_server: Callable[[Any], list[Definition]]   # one GET of every object of this kind
    restorable: Callable[[Definition], Definition]   # a server copy as it can be written back (server fields out)
    differs: Callable[[Definition, Definition], bool]  # does the server copy (first) hold other content?
    entry_problems: Callable[[Definition], list[str]]  # why a backed-up copy cannot be written back
    upserts: Callable[[int], Endpoint]               # the endpoint that creates or overwrites, per batch size
    deletes: Callable[[], Endpoint]                  # the endpoint that deletes


def no_problems(definition: Definition) -> list[str]:
    return []
