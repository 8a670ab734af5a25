"""The command groups, each its own Typer; `app.py` only adds them.

Command modules define plain functions and import neither this module nor `app`,
so the CLI package has no import cycle.
"""
from __future__ import annotations

import typer

from idflow.cli import tasks_local
from idflow.cli.commands import doctor as doctor_cmd
from idflow.cli.commands import init as init_cmd
from idflow.cli.commands import tasks_backup, tasks_git, tasks_list, tasks_plan, tasks_purge, worker, workflows
from idflow.cli.commands import events as events_cmd

doctor = doctor_cmd.doctor
init = init_cmd.init

tasks_app = typer.Typer(no_args_is_help=True, help="Task definitions: local files vs the Conductor server.")
for name, command in (("list", tasks_list.list_tasks), ("diff", tasks_plan.diff), ("upload", tasks_plan.upload),
                      ("apply", tasks_plan.apply), ("purge", tasks_purge.purge), ("sync", tasks_purge.sync),
                      ("history", tasks_git.history), ("rollback", tasks_git.rollback),
                      ("backup", tasks_backup.backup), ("backups", tasks_backup.backups),
                      ("restore", tasks_backup.restore), ("new", tasks_local.new_task)):
    tasks_app.command(name)(command)

workflows_app = typer.Typer(no_args_is_help=True, help="Workflow definitions: local files vs the Conductor server.")
workflows_app.command("list")(workflows.list_workflows)
workflows_app.command("upload")(workflows.upload)

workflow_app = typer.Typer(no_args_is_help=True, help="Workflow executions: start one, follow it to the end.")
workflow_app.command("run")(workflows.run)

worker_app = typer.Typer(no_args_is_help=True, help="Task workers: poll Conductor and run the task functions.")
worker_app.command("start")(worker.start)

events_app = typer.Typer(no_args_is_help=True, help="Event handlers: event_handlers.json files vs the Conductor server.")
for name, command in (("list", events_cmd.list_events), ("diff", events_cmd.diff), ("upload", events_cmd.upload),
                      ("purge", events_cmd.purge)):
    events_app.command(name)(command)
