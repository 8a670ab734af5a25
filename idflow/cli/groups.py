"""The commands, declared as data, and the command groups; `app.py` only adds them.

Each command is (group, name, "module:function", help): the group ("" for the root), the command's name,
the function typer turns into it, and the first sentence of its docstring, which `idflow --help`,
`idflow GROUP --help` and completion show without importing the module (`startup.lazy_group`;
tests/test_lazy_commands.py holds the declarations to the functions). No command module is imported here:
a command's module is imported when that command runs. Command modules import neither this module nor `app`,
so the CLI package has no import cycle.
"""
from __future__ import annotations

import typer

from idflow.cli.startup import TyperGroup, UsageError, lazy_group

COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ('', 'doctor', "idflow.cli.commands.doctor:doctor",
     'Check config, environment, server URL, identity, server, auth and the tasks directory; say what to '
     'fix.'),
    ('', 'init', "idflow.cli.commands.init:init",
     "Write config/idflow.yml (with this project's identity), idflow/tasks/TASK/ and prefect.yaml here."),
    ('', 'completion', "idflow.cli.commands.completion:completion",
     'Print the completion script: `eval "$(idflow completion bash)"` in ~/.bashrc; zsh: the same in '
     '~/.zshrc; fish: `idflow completion fish | source` in config.fish.'),
    ('tasks', 'list', "idflow.cli.commands.tasks_list:list_tasks",
     'What is local, what is on the server, and how they differ (default: --sync).'),
    ('tasks', 'diff', "idflow.cli.commands.tasks_plan:diff",
     'Show what an upload would change, field by field.'),
    ('tasks', 'upload', "idflow.cli.commands.tasks_plan:upload",
     "Upload new and changed definitions (merged into the server's copy, then verified)."),
    ('tasks', 'apply', "idflow.cli.commands.tasks_plan:apply",
     'Apply a saved plan, only if the server still looks as it did when planned.'),
    ('tasks', 'show', "idflow.cli.commands.tasks_show:show",
     'The local definition, the server copy, their difference, provenance, and the workflows that use it.'),
    ('tasks', 'purge', "idflow.cli.commands.tasks_purge:purge",
     'Delete remote definitions: never one a workflow uses (unless --force); asks first.'),
    ('tasks', 'sync', "idflow.cli.commands.tasks_purge:sync",
     'Full synchronisation: upload new and changed; with --prune, purge orphans safely.'),
    ('tasks', 'history', "idflow.cli.commands.tasks_git:history",
     "Commits that changed the task's definition (not every commit that touched its file)."),
    ('tasks', 'rollback', "idflow.cli.commands.tasks_git:rollback",
     'Put back the definitions as they were at a Git revision (working tree untouched).'),
    ('tasks', 'backup', "idflow.cli.commands.tasks_backup:backup",
     'Snapshot every remote task definition into a backup file.'),
    ('tasks', 'backups', "idflow.cli.commands.tasks_backup:backups",
     'List the backups idflow has written (newest last).'),
    ('tasks', 'restore', "idflow.cli.commands.tasks_backup:restore",
     'Restore definitions from a backup file, exactly as they were (backs up what it overwrites).'),
    ('tasks', 'new', "idflow.cli.commands.tasks_new:new_task",
     'Scaffold tasks_dir/NAME/ (NAME.py, __init__.py, requirements.txt); never overwrites.'),
    ('tasks', 'status', "idflow.cli.commands.tasks_status:status",
     'Queue depth, polling workers, executions and timings per task type; what needs attention.'),
    ('tasks', 'adopt', "idflow.cli.commands.tasks_adopt:adopt",
     'Take over definitions stamped under an older project identity (a dry run first; asks, or -y).'),
    ('tasks', 'pull', "idflow.cli.commands.tasks_pull:pull",
     'Rewrite the decorator keywords of tasks edited on the server (every other byte kept), then stamp the'
     ' pulled state as the base.'),
    ('tasks', 'import', "idflow.cli.commands.tasks_pull:import_",
     'Write a task file for each definition that exists only on the server (never over an existing file), '
     "then stamp the server copies as this project's."),
    ('workflows', 'list', "idflow.cli.commands.workflows:list_workflows",
     'What is local, what is on the server, and how they differ (default: --sync).'),
    ('workflows', 'upload', "idflow.cli.commands.workflows:upload",
     'Upload new and changed workflows; refuses (exit 3) if one names a task defined nowhere, or would '
     'revert an edit made on the server since idflow wrote it (unless --overwrite-server-edits).'),
    ('workflows', 'new', "idflow.cli.commands.workflows:new",
     'Scaffold workflows_dir/NAME/NAME.json with one step: --task, else the newest local task; never '
     'overwrites.'),
    ('workflows', 'backups', "idflow.cli.commands.workflow_backups:backups",
     'List the workflow backups idflow has written (newest last).'),
    ('workflows', 'restore', "idflow.cli.commands.workflow_backups:restore",
     'Put workflow versions back as the backup holds them (backs up what it overwrites); asks first.'),
    ('workflows', 'import', "idflow.cli.commands.defs_pull:workflows_import",
     'Write server-only workflow versions into new files, workflows_dir/NAME/NAME.json (NAME.vN.json for '
     "several versions), never over an existing file, and record them as this project's."),
    ('workflows', 'pull', "idflow.cli.commands.defs_pull:workflows_pull",
     'Bring workflow versions edited on the server back into their JSON files (only the changed values '
     'move).'),
    ('workflows', 'diff', "idflow.cli.commands.workflows_manage:diff",
     'Local vs server per (name, version), field by field, with who changed what since idflow wrote it.'),
    ('workflows', 'purge', "idflow.cli.commands.workflows_manage:purge",
     'Delete workflow versions (backed up first): never one in use, running, not ours or uncertain unless '
     '--force (by name) says so; asks first, refuses without a terminal unless -y.'),
    ('workflows', 'history', "idflow.cli.commands.workflows_manage:history",
     'Commits that changed a version of the workflow, and which commit each server version holds.'),
    ('workflows', 'rollback', "idflow.cli.commands.workflows_manage:rollback",
     'Put workflow versions back as they were at a Git revision (working tree untouched), backed up first;'
     ' refused (exit 3) where the server holds an edit idflow did not write, unless --overwrite-server-'
     'edits.'),
    ('workflow', 'run', "idflow.cli.commands.workflows:run",
     "Start a workflow; with --wait, show each task's status as it changes, then the output."),
    ('workflow', 'status', "idflow.cli.commands.workflows:status",
     "A run's status, its tasks and its output (exit 0 whatever the status)."),
    ('workflow', 'terminate', "idflow.cli.commands.workflows:terminate",
     'Stop a running workflow (asks first; without a terminal, needs -y).'),
    ('workflow', 'retry', "idflow.cli.commands.workflows:retry",
     'Run a FAILED, TIMED_OUT or TERMINATED run again from its failed task.'),
    ('events', 'list', "idflow.cli.commands.events:list_events",
     'What is local, what is on the server, and how they differ (default: --sync).'),
    ('events', 'diff', "idflow.cli.commands.events:diff",
     'Show what an upload would change, field by field.'),
    ('events', 'upload', "idflow.cli.commands.events:upload",
     'Create new and replace changed handlers (the replaced ones backed up first), then verify.'),
    ('events', 'purge', "idflow.cli.commands.events:purge",
     'Delete remote handlers (backed up first); asks first, refuses without a terminal unless -y.'),
    ('events', 'import', "idflow.cli.commands.defs_pull:events_import",
     'Write server-only event handlers into new event_handlers.json files (never over an existing file), '
     "one per workflow they belong to, and record them as this project's."),
    ('events', 'pull', "idflow.cli.commands.defs_pull:events_pull",
     'Bring handlers edited on the server back into their event_handlers.json (only the changed values '
     'move; key order and indentation stay).'),
    ('worker', 'start', "idflow.cli.commands.worker:start",
     'Import the task modules and poll for their tasks; never registers definitions (upload does).'),

)


def declared(group: str) -> list[tuple[str, str, str]]:
    """The (name, "module:function", help) of each command of `group` ("" for the root), in order."""
    return [(name, target, help_) for in_group, name, target, help_ in COMMANDS if in_group == group]


class _SiblingGroup(TyperGroup):
    """A group whose unknown command may be a command of its sibling (`workflows run` -> `workflow run`)."""

    sibling = ""
    sibling_commands: frozenset[str] = frozenset()

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            if args and args[0] in self.sibling_commands:
                exc.message = f"No such command {args[0]!r}. Did you mean 'idflow {self.sibling} {args[0]}'?"
            raise


class _WorkflowsGroup(_SiblingGroup):
    sibling, sibling_commands = "workflow", frozenset({"run", "status", "terminate", "retry"})


class _WorkflowGroup(_SiblingGroup):
    sibling, sibling_commands = "workflows", frozenset({"list", "upload", "new", "backups", "restore", "diff",
                                                       "purge", "history", "rollback"})


ROOT_GROUP = lazy_group(declared(""))  # doctor, init, completion: `app.py`'s typer uses it as its class
tasks_app = typer.Typer(cls=lazy_group(declared("tasks")), no_args_is_help=True,
                        help="Task definitions: local files vs the Conductor server.")
workflows_app = typer.Typer(cls=lazy_group(declared("workflows"), _WorkflowsGroup), no_args_is_help=True,
                            help="Workflow definitions: local files vs the Conductor server.")
workflow_app = typer.Typer(cls=lazy_group(declared("workflow"), _WorkflowGroup), no_args_is_help=True,
                           help="Workflow executions: start one, follow it, stop it, retry it.")
worker_app = typer.Typer(cls=lazy_group(declared("worker")), no_args_is_help=True,
                         help="Task workers: poll Conductor and run the task functions.")
events_app = typer.Typer(cls=lazy_group(declared("events")), no_args_is_help=True,
                         help="Event handlers: event_handlers.json files vs the Conductor server.")
GROUPS = {"tasks": tasks_app, "workflows": workflows_app, "workflow": workflow_app, "events": events_app,
          "worker": worker_app}
