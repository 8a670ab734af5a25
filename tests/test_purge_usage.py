"""Purge keeps every definition a workflow can use, through the real CLI on the real server.

Each case registers a real workflow (`client.upsert_workflows`) that uses an orphaned
definition in one of the ways Conductor allows, then runs `idflow tasks purge` by name
and with `--orphaned`, and reads the server back: the definition is still there. `--force`
then deletes it and says FORCED. What the server accepts for each shape was checked first
(Conductor OSS 3.32.3): every workflow below registers without error, including a SIMPLE
task with no TaskDef, expressions as sub-workflow names, inline definitions given as
strings, and START_WORKFLOW requests given as one expression. The Prefect flow is proven
in tests/test_purge_usage_flow.py; the planning itself (pure) is tested here too.
"""
from __future__ import annotations

import time

import pytest

from idflow.project.config import load_config
from idflow.taskdefs.plan import make_plan
from idflow.provenance.trailer import Provenance, content_hash, stamp
from idflow.taskdefs.purge import MAX_DOUBTS_SHOWN, plan_purge
from idflow.taskdefs.usage import build_usage_index
from tests.clihelp import run_cli


def simple(name: str, ref: str) -> dict:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE"}


def inline(name: str, tasks: list) -> dict:
    return {"name": name, "version": 1, "schemaVersion": 2, "tasks": tasks}


# (tasks of a workflow that uses `task` in one way, where that use or doubt is, kind): kind "used" means the
# usage index finds the task; "uncertain" means a run-time choice hides it and the output names where.
def usage_cases(task: str, prefix: str) -> dict[str, tuple[list, str, str]]:
    expr = "${workflow.input.x}"
    return {
        "system_task_sharing_the_name": (
            [{"name": task, "taskReferenceName": "h", "type": "HTTP",
              "inputParameters": {"http_request": {"uri": "http://127.0.0.1:9/x", "method": "GET"}}}],
            "tasks[0]", "used"),
        "start_workflow_inline_definition": (
            [{"name": "start", "taskReferenceName": "st", "type": "START_WORKFLOW",
              "inputParameters": {"startWorkflow": {"name": prefix + "child", "version": 1,
                                                    "workflowDef": inline(prefix + "child", [simple(task, "c")])}}}],
            "tasks[0].inputParameters.startWorkflow.workflowDef.tasks[0]", "used"),
        "sub_workflow_inline_in_a_fork_in_a_switch": (
            [{"name": "route", "taskReferenceName": "sw", "type": "SWITCH", "evaluatorType": "value-param",
              "expression": "k", "inputParameters": {"k": "${workflow.input.k}"},
              "decisionCases": {"a": [
                  {"name": "fork", "taskReferenceName": "f", "type": "FORK_JOIN", "forkTasks": [
                      [simple(prefix + "other", "o")],
                      [{"name": "sub", "taskReferenceName": "sub", "type": "SUB_WORKFLOW",
                        "subWorkflowParam": {"name": prefix + "child", "version": 1,
                                             "workflowDefinition": inline(prefix + "child", [simple(task, "c")])}}]]},
                  {"name": "join", "taskReferenceName": "j", "type": "JOIN", "joinOn": ["o", "sub"]}]}}],
            'tasks[0].decisionCases["a"][0].forkTasks[1][0].subWorkflowParam.workflowDefinition.tasks[0]', "used"),
        "dynamic_with_an_expression_name": (
            [{"name": "dyn", "taskReferenceName": "dyn", "type": "DYNAMIC", "dynamicTaskNameParam": "t",
              "inputParameters": {"t": expr}}],
            "tasks[0]", "uncertain"),
        "fork_join_dynamic": (
            [{"name": "fd", "taskReferenceName": "fd", "type": "FORK_JOIN_DYNAMIC", "dynamicForkTasksParam": "dt",
              "dynamicForkTasksInputParamName": "di", "inputParameters": {"dt": expr, "di": expr}},
             {"name": "join", "taskReferenceName": "j", "type": "JOIN"}],
            "tasks[0]", "uncertain"),
        "sub_workflow_with_an_expression_name": (
            [{"name": "sub", "taskReferenceName": "sub", "type": "SUB_WORKFLOW",
              "subWorkflowParam": {"name": expr, "version": 1}}],
            "tasks[0]", "uncertain"),
    }


CASES = sorted(usage_cases("t", "p"))


def project_identity(project) -> str:
    return load_config(project.config_path).project_name


def orphan_on_server(client, project, name: str) -> dict:
    """A definition stamped as this project's upload with no task file: an orphan, as a deleted file leaves it."""
    body = {"name": name, "timeoutSeconds": 60, "responseTimeoutSeconds": 30, "description": "gone"}
    prov = Provenance(None, False, f"idflow/tasks/{name}/{name}.py", content_hash(body), "2026-01-01T00:00:00+00:00",
                      project=project_identity(project))  # the hash of what it holds: not edited since
    client.upsert_taskdefs([{**body, "description": stamp("gone", prov)}])
    return client.get_taskdef(name)


def register(client, prefix: str, case: str, task: str) -> str:
    tasks, where, _ = usage_cases(task, prefix)[case]
    client.upsert_workflows([{"name": prefix + "wf", "version": 1, "schemaVersion": 2, "tasks": tasks}])
    assert client.get_workflow(prefix + "wf", 1)["tasks"][0]["type"] == tasks[0]["type"]
    return f"{prefix}wf v1 {where}"


def assert_kept_and_explained(doc: dict, task: str, place: str, kind: str) -> None:
    skipped = {s["name"]: s for s in doc["skipped"]}
    assert task in skipped and doc["deleted"] == []
    skip = skipped[task]
    if kind == "used":
        assert skip["reason"].startswith("used by workflows") and place in skip["used_by"]
    else:
        # Another workflow on the shared server may also be uncertain: ours must be among those named.
        assert skip["reason"].startswith("usage uncertain:")
        assert any(u.startswith(place + " (") for u in doc["plan"]["uncertain"])
        assert len(skip["used_by"]) <= MAX_DOUBTS_SHOWN
        if len(doc["plan"]["uncertain"]) <= MAX_DOUBTS_SHOWN:
            assert any(u.startswith(place + " (") for u in skip["used_by"])


@pytest.mark.server
@pytest.mark.parametrize("mode", ["by_name", "orphaned"])
@pytest.mark.parametrize("case", CASES)
def test_purge_keeps_a_definition_a_workflow_can_use_until_forced(project, prefix, client, capsys, case, mode):
    task = prefix + "target"
    orphan_on_server(client, project, task)
    place = register(client, prefix, case, task)
    kind = usage_cases(task, prefix)[case][2]
    args = [task] if mode == "by_name" else ["--orphaned"]
    kept = run_cli(capsys, "tasks", "purge", *args, "-y", "--json")
    assert kept.code == (3 if mode == "by_name" else 0), kept.err
    assert_kept_and_explained(kept.json, task, place, kind)
    assert client.get_taskdef(task)["name"] == task            # the server still holds it
    assert place.split(" v1 ")[0] in kept.err                  # the output names the workflow

    forced = run_cli(capsys, "tasks", "purge", *args, "--force", "-y", "--json")
    assert forced.code == 0, forced.err
    assert task in forced.json["deleted"] and task in forced.json["forced"]
    assert "FORCED" in forced.err and place in forced.err
    assert task not in {d["name"] for d in client.list_taskdefs()}


# ---- the planning itself (pure) ---------------------------------------------------------------

def _server_copies(names: list[str], project: str) -> list[dict]:
    def copy(name: str) -> dict:
        body = {"name": name, "timeoutSeconds": 60, "description": ""}
        prov = Provenance(None, False, "gone.py", content_hash(body), "2026-01-01T00:00:00+00:00", project=project)
        return {**body, "description": stamp("", prov)}

    return [copy(n) for n in names]


def _dynamic_workflow(name: str) -> dict:
    return {"name": name, "version": 2, "tasks": [
        {"name": "dyn", "taskReferenceName": "d", "type": "DYNAMIC", "dynamicTaskNameParam": "t",
         "inputParameters": {"t": "${workflow.input.t}"}}]}


@pytest.mark.parametrize("doubts", [1, MAX_DOUBTS_SHOWN + 5])
def test_an_uncertain_skip_names_the_workflows_that_made_it_so(doubts):
    plan = make_plan([], _server_copies(["gone"], "p"), project="p")
    usage = build_usage_index([_dynamic_workflow(f"chooser{i}") for i in range(doubts)])
    purge = plan_purge(plan, usage, orphaned=True)
    skip = purge.skipped[0]
    first = "chooser0 v2 tasks[0] (DYNAMIC: task name chosen at run time)"
    assert skip.name == "gone" and purge.deletions == []
    assert skip.reason == (f"usage uncertain: {doubts} workflow task(s) choose at run time what they run, "
                           f"e.g. {first}; --force to delete anyway")
    assert skip.used_by == purge.uncertain[:MAX_DOUBTS_SHOWN] and skip.used_by[0] == first
    assert len(purge.uncertain) == doubts and purge.to_json()["uncertain"][-1].startswith(f"chooser{doubts - 1} v2")
    forced = plan_purge(plan, usage, orphaned=True, force=True).deletions[0]
    assert forced.forced_uses[0] == f"usage uncertain: {first}" and len(forced.forced_uses) == min(doubts, 10)


def test_a_used_definition_is_kept_even_when_usage_is_also_uncertain():
    plan = make_plan([], _server_copies(["used", "free"], "p"), project="p")
    usage = build_usage_index([_dynamic_workflow("chooser"),
                               {"name": "w", "version": 1, "tasks": [{"name": "used", "type": "JSON_JQ_TRANSFORM"}]}])
    purge = plan_purge(plan, usage, orphaned=True)
    assert {s.name: s.used_by for s in purge.skipped}["used"] == ("w v1 tasks[0]",)
    assert {s.name: s.reason for s in purge.skipped}["free"].startswith("usage uncertain")


def test_candidates_keep_their_first_reason_and_order():
    copies = _server_copies(["b_orphan", "a_orphan"], "p") + [{"name": "foreign", "timeoutSeconds": 60}]
    plan = make_plan([], copies, project="p")
    purge = plan_purge(plan, build_usage_index([]), names=["b_orphan", "missing", "b_orphan"], orphaned=True,
                       include_foreign=True)
    assert [(d.name, d.reason) for d in purge.deletions] == [
        ("b_orphan", "named"), ("a_orphan", "orphaned"), ("foreign", "foreign")]
    assert [(s.name, s.reason) for s in purge.skipped] == [("missing", "not on the server")]
    kept = plan_purge(plan, build_usage_index([]), orphaned=True)
    assert [s.name for s in kept.skipped] == ["foreign"] and [d.name for d in kept.deletions] == ["a_orphan",
                                                                                                  "b_orphan"]


class CountingItems(tuple):
    """A plan's items that count full passes over them."""
    passes = 0

    def __iter__(self):
        CountingItems.passes += 1
        return super().__iter__()


def test_planning_a_purge_passes_over_the_plan_a_fixed_number_of_times():
    names = [f"o{i:05d}" for i in range(2000)]
    plan = make_plan([], _server_copies(names, "p"), project="p")
    plan = type(plan)(CountingItems(plan.items), plan.server_url, plan.created_at)
    CountingItems.passes = 0
    purge = plan_purge(plan, build_usage_index([]), names=names[:500], orphaned=True)
    assert len(purge.deletions) == 2000
    assert CountingItems.passes <= 4   # not one per name: a lookup by name is a dict lookup


def test_planning_twenty_thousand_orphans_is_not_quadratic():
    """It took 40 s before (a scan per name, a dict rebuilt per orphan); it takes ~0.1 s of CPU now."""
    names = [f"o{i:05d}" for i in range(20_000)]
    plan = make_plan([], _server_copies(names, "p"), project="p")
    usage = build_usage_index([{"name": "w", "version": 1, "tasks": [{"name": n} for n in names[::3]]}])
    start = time.process_time()
    purge = plan_purge(plan, usage, names=names[::2], orphaned=True)
    assert time.process_time() - start < 5.0
    assert len(purge.deletions) + len(purge.skipped) == 20_000
