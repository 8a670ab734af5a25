"""Every operation idflow exposes as a command and a Prefect flow, declared once (as pip's `commands_dict`).

An `Operation` names its use case and its outcome type by dotted path, so importing this module costs
nothing: a local command never pays for the flows, Prefect or the modules of other operations.
The flows (`idflow.flows.factory`, `idflow.flows.definitions`), the `--prefect` bridge
(`idflow.cli.prefect_bridge`) and the flow entrypoints (`flows/idflow_flows.py`, `prefect.yaml`)
are made from, or checked against, `OPERATIONS` (tests/test_registry.py).

Adding an operation is one entry here. With `custom_flow=False` (the default) the flow is generated:
it opens a session, calls the use case with each step as a retried Prefect task, publishes the
document as an artifact and ends Failed when `outcome.ok` is false.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

# A parameter's type, as the flow declares it (Prefect builds the UI's form and validates from it).
TYPES = ("bool", "bool?", "str", "str?", "names")   # names: list[str] | None


@dataclass(frozen=True)
class Param:
    """One flow parameter: `name` in the flow, passed to the use case as `arg` (default: the same name).
    `convert` names how the flow's plain value becomes the use case's (idflow.flows.factory.CONVERTERS)."""

    name: str
    type: str = "bool"
    default: Any = False
    arg: str | None = None
    required: bool = False
    convert: str | None = None

    @property
    def usecase_arg(self) -> str:
        return self.arg or self.name


@dataclass(frozen=True)
class Operation:
    """One operation idflow offers as a CLI command and a Prefect flow: its use case, outcome and parameters."""
    name: str                         # the key, and the flow's Python name (entrypoint `flows/idflow_flows.py:NAME`)
    command: str                      # the CLI command that runs it, e.g. "events upload"
    usecase: str                      # "module:function" in idflow.usecases
    outcome: str                      # "module:Class" of what the use case returns (its to_json() is the document)
    writes: bool                      # changes definitions on the server
    flow: str                         # the Prefect flow's name
    summary: str                      # the flow's description in the Prefect UI
    params: tuple[Param, ...] = ()    # besides config_path and environment, which every flow takes
    custom_flow: bool = False         # a hand-written flow in idflow.flows.definitions (checked against params)
    artifact: str = ""                # the generated flow's artifact key (default: idflow-<name with dashes>)

    def load_usecase(self) -> Any:
        return _load(self.usecase)

    def load_outcome(self) -> Any:
        return _load(self.outcome)

    @property
    def artifact_key(self) -> str:
        return self.artifact or "idflow-" + self.name.replace("_", "-")


def _load(dotted: str) -> Any:
    module, _, attribute = dotted.partition(":")
    return getattr(import_module(module), attribute)


COMMON = (Param("config_path", "str?", None), Param("environment", "str?", None))

_NAMES = Param("names", "names", None)
_TASK_NAMES = Param("task_names", "names", None, arg="names")
_DRY_RUN = Param("dry_run")
_FILE = Param("file", "str", None, arg="path", required=True, convert="path")

_DECLARED = (
    # ---- hand-written flows (idflow.flows.definitions): their names and parameters are what deployments use ----
    Operation("discover", "tasks list", "idflow.usecases.local:discover", "idflow.discovery:Discovery", False,
              "idflow-discover", "List the local task files' definitions and their problems.", custom_flow=True),
    Operation("diff", "tasks diff", "idflow.usecases.tasks:diff", "idflow.usecases.tasks:UploadPlan", False,
              "idflow-diff", "What an upload would change.",
              (_TASK_NAMES, Param("fail_on_drift")), custom_flow=True),
    Operation("upload", "tasks upload", "idflow.usecases.tasks:upload", "idflow.usecases.tasks:UploadOutcome", True,
              "idflow-upload", "Upload new and changed task definitions.",
              (_TASK_NAMES, Param("force"), _DRY_RUN, Param("require_clean", "bool?", None),
               Param("overwrite_server_edits"), Param("take_over")), custom_flow=True),
    Operation("purge_orphaned", "tasks purge", "idflow.usecases.purging:purge", "idflow.usecases.purging:PurgeOutcome",
              True, "idflow-purge-orphaned", "Delete orphaned task definitions no workflow uses.",
              (Param("include_foreign"), _DRY_RUN), custom_flow=True),
    Operation("sync", "tasks sync", "idflow.usecases.purging:sync", "idflow.usecases.purging:SyncOutcome", True,
              "idflow-sync", "Upload new and changed task definitions; with prune, purge orphans.",
              (Param("prune"), _DRY_RUN, Param("require_clean", "bool?", None), Param("events"),
               Param("overwrite_server_edits"), Param("server_edits", "str?", None)), custom_flow=True),
    Operation("status", "tasks status", "idflow.usecases.status:task_status", "idflow.monitoring.report:StatusReport",
              False, "idflow-status", "Is every task served?",
              (_TASK_NAMES, Param("since", "str", "1h"), Param("unserved_after", "str", "60s"),
               Param("failing_above", "str", "10%"), Param("fail_on_attention")), custom_flow=True),
    # ---- generated flows (idflow.flows.factory) ----
    Operation("events_upload", "events upload", "idflow.usecases.events:events_upload",
              "idflow.usecases.events:EventUploadOutcome", True, "idflow-events-upload",
              "Create new and replace changed event handlers (all, or names), backed up first, then verified.",
              (_NAMES, _DRY_RUN)),
    Operation("events_purge", "events purge", "idflow.usecases.events:events_purge",
              "idflow.usecases.events:EventPurgeOutcome", True, "idflow-events-purge",
              "Delete event handlers (names, or orphaned: provably this project's and in no file), backed up first.",
              (_NAMES, Param("orphaned"), _DRY_RUN)),
    Operation("workflows_upload", "workflows upload", "idflow.usecases.workflows:upload",
              "idflow.workflowdefs.write:UploadResult", True, "idflow-workflows-upload",
              "Upload new and changed workflows (all, or names); refused when one names a task defined nowhere.",
              (_NAMES, _DRY_RUN, Param("overwrite_server_edits"))),
    Operation("workflows_purge", "workflows purge", "idflow.usecases.workflows_purge:workflows_purge",
              "idflow.usecases.workflows_purge:WorkflowPurgeOutcome", True, "idflow-workflows-purge",
              "Delete workflow versions (names, or orphaned: this project's, file gone); never one in use or "
              "running unless forced; backed up first.",
              (_NAMES, Param("orphaned"), Param("force"), _DRY_RUN)),
    Operation("workflows_rollback", "workflows rollback", "idflow.usecases.workflows_history:workflows_rollback",
              "idflow.usecases.workflows_history:WorkflowRollbackOutcome", True, "idflow-workflows-rollback",
              "Put workflow versions back as they were at a Git revision; never reverts a server edit unseen.",
              (Param("to", "str", None, arg="rev", required=True), _NAMES, _DRY_RUN,
               Param("overwrite_server_edits"))),
    Operation("workflows_diff", "workflows diff", "idflow.usecases.workflows_diff:workflows_diff",
              "idflow.workflowdefs.diff:WorkflowDiff", False, "idflow-workflows-diff",
              "What a workflows upload would change, field by field, with who changed what since idflow wrote it.",
              (_NAMES,)),
    Operation("rollback", "tasks rollback", "idflow.usecases.revisions:rollback",
              "idflow.usecases.revisions:RollbackOutcome", True, "idflow-tasks-rollback",
              "Put back task definitions as they were at a Git revision; refused while a sync schedule is active.",
              (Param("to", "str", None, arg="rev", required=True), _TASK_NAMES, _DRY_RUN,
               Param("pause_schedules", arg="schedules", convert="schedule_guard"))),
    Operation("restore", "tasks restore", "idflow.usecases.backups:restore", "idflow.engine.restore:RestoreOutcome",
              True, "idflow-tasks-restore", "Restore task definitions from a backup file (what it overwrites backed up).",
              (_FILE, _NAMES, _DRY_RUN)),
    Operation("workflows_restore", "workflows restore", "idflow.usecases.workflow_backups:restore_workflows",
              "idflow.engine.restore:RestoreOutcome", True, "idflow-workflows-restore",
              "Restore workflow versions from a backup file (what it overwrites backed up).", (_FILE, _NAMES, _DRY_RUN)),
    Operation("adopt", "tasks adopt", "idflow.usecases.adopt:adopt", "idflow.usecases.adopt:AdoptOutcome", True,
              "idflow-tasks-adopt", "Re-stamp definitions of an older project identity (None: stamped without one).",
              (Param("from_project", "str?", None, required=True), _NAMES, _DRY_RUN)),
    Operation("import_tasks", "tasks import", "idflow.usecases.importing:import_definitions",
              "idflow.usecases.importing:ImportOutcome", True, "idflow-tasks-import",
              "Write a task file for each server-only definition (all unmanaged, or names), then stamp it.",
              (_NAMES, _DRY_RUN, Param("take_over"))),
    Operation("apply", "tasks apply", "idflow.usecases.tasks:apply_plan_file", "idflow.usecases.tasks:UploadOutcome",
              True, "idflow-tasks-apply", "Apply a plan written by 'tasks diff --out', only if the server still "
              "looks as it did when planned.", (Param("plan_file", "str", None, required=True, convert="path"),
                                                Param("overwrite_server_edits"))),
    Operation("pull", "tasks pull", "idflow.usecases.pull:pull", "idflow.usecases.pull:PullOutcome", True,
              "idflow-tasks-pull", "Rewrite the task files of definitions edited on the server, then stamp them.",
              (_NAMES, _DRY_RUN)),
    Operation("events_import", "events import", "idflow.usecases.events_pull:events_import",
              "idflow.usecases.events_pull:EventImportOutcome", True, "idflow-events-import",
              "Write server-only event handlers into new event_handlers.json files and record them as this project's.",
              (_NAMES, _DRY_RUN)),
    Operation("events_pull", "events pull", "idflow.usecases.events_pull:events_pull",
              "idflow.usecases.events_pull:EventPullOutcome", True, "idflow-events-pull",
              "Bring event handlers edited on the server back into their files (only the changed values move).",
              (_NAMES, _DRY_RUN)),
    Operation("workflows_import", "workflows import", "idflow.usecases.workflows_pull:workflows_import",
              "idflow.usecases.workflows_pull:WorkflowImportOutcome", True, "idflow-workflows-import",
              "Write server-only workflow versions into new files and record them as this project's.",
              (_NAMES, _DRY_RUN)),
    Operation("workflows_pull", "workflows pull", "idflow.usecases.workflows_pull:workflows_pull",
              "idflow.usecases.workflows_pull:WorkflowPullOutcome", True, "idflow-workflows-pull",
              "Bring workflow versions edited on the server back into their JSON files (only the changed values move).",
              (_NAMES, _DRY_RUN)),
)

OPERATIONS: dict[str, Operation] = {op.name: op for op in _DECLARED}
FLOW_NAMES: tuple[str, ...] = tuple(OPERATIONS)


def by_command(command: str) -> Operation | None:
    return next((op for op in OPERATIONS.values() if op.command == command), None)
