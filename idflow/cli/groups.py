"""The command groups, each its own Typer; `app.py` only adds them.

Command modules define plain functions and import neither this module nor `app`,
so the CLI package has no import cycle.
"""
from __future__ import annotations

import typer
from typer.core import TyperGroup

from idflow.cli.startup import UsageError

from idflow.cli.commands import doctor as doctor_cmd
from idflow.cli.commands import init as init_cmd
from idflow.cli.commands import (tasks_backup, tasks_git, tasks_list, tasks_new, tasks_plan, tasks_purge, tasks_show,
                                 tasks_status, worker)
from idflow.cli.commands import workflow_backups, workflows, workflows_manage
from idflow.cli.commands import events as events_cmd
from idflow.cli.commands import defs_pull, tasks_adopt, tasks_pull

doctor = doctor_cmd.doctor
init = init_cmd.init

tasks_app = typer.Typer(no_args_is_help=True, help="Task definitions: local files vs the Conductor server.")
for name, command in (("list", tasks_list.list_tasks), ("diff", tasks_plan.diff), ("upload", tasks_plan.upload),
                      ("apply", tasks_plan.apply), ("show", tasks_show.show), ("purge", tasks_purge.purge),
                      ("sync", tasks_purge.sync),
                      ("history", tasks_git.history), ("rollback", tasks_git.rollback),
                      ("backup", tasks_backup.backup), ("backups", tasks_backup.backups),
                      ("restore", tasks_backup.restore), ("new", tasks_new.new_task),
                      ("status", tasks_status.status)):
    tasks_app.command(name)(command)
tasks_app.command("adopt")(tasks_adopt.adopt)
tasks_app.command("pull")(tasks_pull.pull)
tasks_app.command("import")(tasks_pull.import_)

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

workflows_app = typer.Typer(cls=_WorkflowsGroup, no_args_is_help=True,
                            help="Workflow definitions: local files vs the Conductor server.")
for name, command in (("list", workflows.list_workflows), ("upload", workflows.upload), ("new", workflows.new),
                      ("backups", workflow_backups.backups), ("restore", workflow_backups.restore),
                      ("import", defs_pull.workflows_import), ("pull", defs_pull.workflows_pull),
                      ("diff", workflows_manage.diff), ("purge", workflows_manage.purge),
                      ("history", workflows_manage.history), ("rollback", workflows_manage.rollback)):
    workflows_app.command(name)(command)

workflow_app = typer.Typer(cls=_WorkflowGroup, no_args_is_help=True,
                           help="Workflow executions: start one, follow it, stop it, retry it.")
for name, command in (("run", workflows.run), ("status", workflows.status), ("terminate", workflows.terminate),
                      ("retry", workflows.retry)):
    workflow_app.command(name)(command)

worker_app = typer.Typer(no_args_is_help=True, help="Task workers: poll Conductor and run the task functions.")
worker_app.command("start")(worker.start)

events_app = typer.Typer(no_args_is_help=True, help="Event handlers: event_handlers.json files vs the Conductor server.")
for name, command in (("list", events_cmd.list_events), ("diff", events_cmd.diff), ("upload", events_cmd.upload),
                      ("purge", events_cmd.purge), ("import", defs_pull.events_import),
                      ("pull", defs_pull.events_pull)):
    events_app.command(name)(command)
