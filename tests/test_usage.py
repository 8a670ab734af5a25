"""The usage index: every nesting Conductor has, every version, local files, doubt."""
from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idflow.taskdefs.usage import MAX_DEPTH, Uncertainty, Use, UsageIndex, build_usage_index, unknown_task_references
from idflow.workflowdefs.files import FileIssue, LocalWorkflow, load_workflow_files


def simple(name: str, ref: str | None = None) -> dict:
    return {"name": name, "taskReferenceName": ref or f"{name}_ref", "type": "SIMPLE"}


def workflow(name: str, tasks: list, version: int = 1) -> dict:
    return {"name": name, "version": version, "tasks": tasks}


def wheres(index: UsageIndex, name: str) -> list[str]:
    return [u.where for u in index.uses_of(name)]


START_INLINE = "tasks[0].inputParameters.startWorkflow.workflowDef"
SUB_INLINE = "subWorkflowParam.workflowDefinition"


def start_workflow(definition, ref: str = "start") -> dict:
    """A START_WORKFLOW task; `definition` is its inline workflowDef (a dict, or an expression string)."""
    return {"name": ref, "taskReferenceName": ref, "type": "START_WORKFLOW",
            "inputParameters": {"startWorkflow": {"name": "child", "version": 1, "workflowDef": definition}}}


def sub_workflow(definition, ref: str = "sub", name: str = "child") -> dict:
    param = {"name": name, "version": 1}
    if definition is not None:
        param["workflowDefinition"] = definition
    return {"name": ref, "taskReferenceName": ref, "type": "SUB_WORKFLOW", "subWorkflowParam": param}


# --- nesting ---------------------------------------------------------------

def test_top_level_simple_task_and_missing_type():
    bare = {"name": "untyped", "taskReferenceName": "u"}
    index = build_usage_index([workflow("order_flow", [simple("charge"), bare], version=3)])
    assert index.uses_of("charge") == [Use("order_flow", 3, "tasks[0]", "server")]
    assert wheres(index, "untyped") == ["tasks[1]"]
    assert (index.verdict("charge"), index.verdict("refund")) == ("used", "unused")


def test_task_used_only_inside_a_fork_branch():
    fork = {"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN",
            "forkTasks": [[simple("a")], [simple("b"), simple("in_fork")]]}
    join = {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["a_ref", "in_fork_ref"]}
    index = build_usage_index([workflow("order_flow", [simple("x"), simple("y"), fork, join], version=3)])
    assert wheres(index, "in_fork") == ["tasks[2].forkTasks[1][1]"]
    assert str(index.uses_of("in_fork")[0]) == "order_flow v3 tasks[2].forkTasks[1][1]"
    assert index.verdict("in_fork") == "used"
    # FORK_JOIN and JOIN are tasks too: a TaskDef named "fork" or "join" would apply to them.
    assert wheres(index, "fork") == ["tasks[2]"] and wheres(index, "join") == ["tasks[3]"]


def test_task_used_only_in_a_switch_case_and_default_case():
    switch = {"name": "route", "type": "SWITCH", "evaluatorType": "value-param", "expression": "kind",
              "decisionCases": {"card": [simple("card_pay")], "bank transfer": [simple("x"), simple("wire")]},
              "defaultCase": [simple("fallback")]}
    index = build_usage_index([workflow("pay", [switch])])
    assert wheres(index, "card_pay") == ['tasks[0].decisionCases["card"][0]']
    assert wheres(index, "wire") == ['tasks[0].decisionCases["bank transfer"][1]']
    assert wheres(index, "fallback") == ["tasks[0].defaultCase[0]"]
    assert wheres(index, "route") == ["tasks[0]"]


def test_task_used_only_in_a_decision_case():
    decision = {"name": "decide", "taskReferenceName": "d", "type": "DECISION", "caseValueParam": "c",
                "decisionCases": {"true": [simple("approve")]}, "defaultCase": []}
    index = build_usage_index([workflow("review", [simple("start"), decision])])
    assert index.uses_of("approve") == [Use("review", 1, 'tasks[1].decisionCases["true"][0]', "server")]


def test_task_used_only_in_a_do_while_loop():
    loop = {"name": "loop", "type": "DO_WHILE", "loopOver": [simple("poll"), simple("step")]}
    assert wheres(build_usage_index([workflow("batch", [loop])]), "step") == ["tasks[0].loopOver[1]"]


def test_task_used_only_in_an_inline_sub_workflow_definition():
    inner_fork = {"name": "f", "taskReferenceName": "f", "type": "FORK_JOIN", "forkTasks": [[simple("deep")]]}
    inline = {"name": "inline_child", "tasks": [simple("inlined"), inner_fork]}
    sub = {"name": "sub", "taskReferenceName": "sub", "type": "SUB_WORKFLOW",
           "subWorkflowParam": {"name": "inline_child", "version": 1, "workflowDefinition": inline}}
    index = build_usage_index([workflow("parent", [simple("a"), simple("b"), simple("c"), sub], version=2)])
    assert wheres(index, "inlined") == ["tasks[3].subWorkflowParam.workflowDefinition.tasks[0]"]
    assert wheres(index, "deep") == ["tasks[3].subWorkflowParam.workflowDefinition.tasks[1].forkTasks[0][0]"]
    assert index.uses_of("inlined")[0].workflow == "parent"


def test_sub_workflow_task_uses_the_taskdef_of_its_own_name_not_of_the_workflow_it_runs():
    sub = {"name": "call_child", "type": "SUB_WORKFLOW", "subWorkflowParam": {"name": "child_flow", "version": 2}}
    index = build_usage_index([workflow("parent", [sub])])
    assert (index.verdict("call_child"), index.verdict("child_flow")) == ("used", "unused")
    assert index.uncertain == []


def test_every_nesting_kind_together_in_document_order():
    tasks = [
        {"type": "DO_WHILE", "name": "l", "loopOver": [
            {"type": "SWITCH", "name": "s", "decisionCases": {"a": [
                {"type": "FORK_JOIN", "name": "f", "forkTasks": [[], [simple("t")]]}]},
             "defaultCase": [simple("t")]}]},
        simple("t"),
    ]
    index = build_usage_index([workflow("w", tasks)])
    assert wheres(index, "t") == ['tasks[0].loopOver[0].decisionCases["a"][0].forkTasks[1][0]',
                                  "tasks[0].loopOver[0].defaultCase[0]", "tasks[1]"]


def test_task_used_only_inside_a_start_workflow_inline_definition():
    inline = {"name": "child", "version": 1, "tasks": [simple("first"), simple("only_here")]}
    index = build_usage_index([workflow("parent", [start_workflow(inline)], version=4)])
    assert index.uses_of("only_here") == [Use("parent", 4, START_INLINE + ".tasks[1]", "server")]
    assert str(index.uses_of("only_here")[0]) == f"parent v4 {START_INLINE}.tasks[1]"
    assert index.uncertain == []


def _fork(*branches) -> dict:
    return {"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN", "forkTasks": list(branches)}


def _switch(case: list, default: list | None = None) -> dict:
    return {"name": "sw", "taskReferenceName": "sw", "type": "SWITCH", "evaluatorType": "value-param",
            "expression": "k", "decisionCases": {"a": case}, "defaultCase": default or []}


def _loop(body: list) -> dict:
    return {"name": "loop", "taskReferenceName": "loop", "type": "DO_WHILE", "loopOver": body}


def _inline(tasks: list) -> dict:
    return {"name": "child", "version": 1, "tasks": tasks}


DEEP = "deep_task"
# (top-level tasks, where DEEP is found): each inline kind inside every other construct and inside each other.
NESTED_INLINE = {
    "sub_in_fork_in_switch": (
        [_switch([_fork([simple("x")], [sub_workflow(_inline([simple(DEEP)]))])])],
        f'tasks[0].decisionCases["a"][0].forkTasks[1][0].{SUB_INLINE}.tasks[0]'),
    "start_in_default_case_in_loop": (
        [_loop([_switch([], [start_workflow(_inline([simple("x"), simple(DEEP)]))])])],
        "tasks[0].loopOver[0].defaultCase[0].inputParameters.startWorkflow.workflowDef.tasks[1]"),
    "start_in_sub_inline": (
        [sub_workflow(_inline([start_workflow(_inline([simple(DEEP)]))]))],
        f"tasks[0].{SUB_INLINE}.tasks[0].inputParameters.startWorkflow.workflowDef.tasks[0]"),
    "sub_in_start_inline_in_fork": (
        [_fork([start_workflow(_inline([_loop([sub_workflow(_inline([simple(DEEP)]))])]))])],
        "tasks[0].forkTasks[0][0].inputParameters.startWorkflow.workflowDef.tasks[0].loopOver[0]."
        f"{SUB_INLINE}.tasks[0]"),
    "start_in_start": (
        [start_workflow(_inline([start_workflow(_inline([_fork([simple(DEEP)])]))]))],
        "tasks[0].inputParameters.startWorkflow.workflowDef.tasks[0].inputParameters.startWorkflow.workflowDef"
        ".tasks[0].forkTasks[0][0]"),
}


@pytest.mark.parametrize("shape", sorted(NESTED_INLINE))
def test_inline_definitions_are_walked_at_any_depth(shape):
    tasks, where = NESTED_INLINE[shape]
    index = build_usage_index([workflow("parent", tasks, version=2)])
    assert index.uses_of(DEEP) == [Use("parent", 2, where, "server")]
    assert index.verdict(DEEP) == "used" and index.uncertain == []


# --- versions and local files -------------------------------------------------

def test_old_workflow_version_still_counts():
    v1 = workflow("order_flow", [simple("legacy"), simple("charge")], version=1)
    v2 = workflow("order_flow", [simple("charge")], version=2)
    index = build_usage_index([v1, v2])
    assert index.verdict("legacy") == "used" and index.uses_of("legacy") == [Use("order_flow", 1, "tasks[0]", "server")]
    assert [u.version for u in index.uses_of("charge")] == [1, 2]


def test_local_workflow_only():
    local = LocalWorkflow("idflow/workflows/x.json", workflow("draft_flow", [simple("new_task")]))
    index = build_usage_index([], [local])
    use = index.uses_of("new_task")[0]
    assert use == Use("draft_flow", None, "tasks[0]", "idflow/workflows/x.json")
    assert str(use) == "draft_flow (local file idflow/workflows/x.json) tasks[0]"
    both = build_usage_index([workflow("flow", [simple("t")], version=4)],
                             [LocalWorkflow("wf/flow.yaml", workflow("flow", [simple("x"), simple("t")]))])
    assert [str(u) for u in both.uses_of("t")] == ["flow v4 tasks[0]", "flow (local file wf/flow.yaml) tasks[1]"]


def test_local_json_and_yaml_files_feed_the_index(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps(workflow("json_flow", [simple("from_json")])))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("name: yaml_flow\ntasks:\n  - name: from_yaml\n    taskReferenceName: r\n")
    (tmp_path / "c.yml").write_text("- name: one\n  tasks: []\n- name: two\n  tasks:\n    - name: from_list\n")
    (tmp_path / "notes.txt").write_text("not a workflow")
    local, issues = load_workflow_files(tmp_path)
    assert issues == []
    assert [(Path(w.path).relative_to(tmp_path).as_posix(), w.definition["name"]) for w in local] == [
        ("a.json", "json_flow"), ("c.yml", "one"), ("c.yml", "two"), ("sub/b.yaml", "yaml_flow")]
    index = build_usage_index([], local)
    assert str(index.uses_of("from_yaml")[0]) == f"yaml_flow (local file {tmp_path / 'sub' / 'b.yaml'}) tasks[0]"
    assert index.uses_of("from_json")[0].source == str(tmp_path / "a.json")
    assert index.uses_of("from_list")[0].workflow == "two"


# --- dynamic tasks: doubt, said out loud -----------------------------------------

DYNAMIC = {"name": "dyn", "taskReferenceName": "dyn", "type": "DYNAMIC", "dynamicTaskNameParam": "taskToExecute",
           "inputParameters": {"taskToExecute": "${workflow.input.task}"}}
FORK_DYNAMIC = {"name": "fd", "taskReferenceName": "fd", "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks", "dynamicForkTasksInputParamName": "inputs"}


def test_dynamic_task_makes_unused_names_uncertain_but_used_stays_used():
    index = build_usage_index([workflow("w", [simple("known"), DYNAMIC], version=2)])
    assert (index.verdict("known"), index.verdict("anything_else")) == ("used", "uncertain")
    assert not bool(index.uses_of("anything_else")) and wheres(index, "dyn") == ["tasks[1]"]
    assert index.uncertain == [Uncertainty("w", 2, "tasks[1]", "DYNAMIC", "server", "task name chosen at run time")]
    assert str(index.uncertain[0]) == "w v2 tasks[1] (DYNAMIC: task name chosen at run time)"


def test_fork_join_dynamic_nested_is_uncertain():
    loop = {"name": "l", "type": "DO_WHILE", "loopOver": [FORK_DYNAMIC]}
    index = build_usage_index([workflow("w", [loop])])
    assert index.uncertain == [Uncertainty("w", 1, "tasks[0].loopOver[0]", "FORK_JOIN_DYNAMIC", "server",
                                           "forked tasks chosen at run time")]
    assert index.verdict("fd") == "used" and index.verdict("other") == "uncertain"


def test_dynamic_task_with_a_literal_name_is_a_plain_use():
    literal = dict(DYNAMIC, inputParameters={"taskToExecute": "fixed_task"})
    index = build_usage_index([workflow("w", [literal])])
    assert index.uses_of("fixed_task") == [Use("w", 1, "tasks[0]", "server")]
    assert index.uses_of("dyn") == [Use("w", 1, "tasks[0]", "server")]
    assert index.uncertain == [] and index.verdict("other") == "unused"


EXPR = "${workflow.input.x}"
# (task, the Uncertainty's task_type, its reason): every way a task chooses at run time what it runs.
RUN_TIME_CHOICES = {
    "dynamic_expression_name": (DYNAMIC, "DYNAMIC", "task name chosen at run time"),
    "dynamic_without_name_param": ({"name": "d", "type": "DYNAMIC", "inputParameters": {}},
                                   "DYNAMIC", "task name chosen at run time"),
    "fork_join_dynamic": (FORK_DYNAMIC, "FORK_JOIN_DYNAMIC", "forked tasks chosen at run time"),
    "fork_join_dynamic_literal_fork_task_name": (
        dict(FORK_DYNAMIC, inputParameters={"forkTaskName": "fixed", "forkTaskInputs": EXPR}),
        "FORK_JOIN_DYNAMIC", "forked tasks chosen at run time"),
    "sub_workflow_expression_name": (sub_workflow(None, name=EXPR), "SUB_WORKFLOW",
                                     "sub-workflow name chosen at run time"),
    # With an inline definition too: careful rather than guess which one the server picks.
    "sub_workflow_expression_name_and_inline_definition": (sub_workflow(_inline([]), name=EXPR), "SUB_WORKFLOW",
                                                           "sub-workflow name chosen at run time"),
    "sub_workflow_definition_as_string": (sub_workflow(EXPR), "SUB_WORKFLOW",
                                          "inline sub-workflow definition given as an expression"),
    "start_workflow_request_expression": (
        {"name": "st", "type": "START_WORKFLOW", "inputParameters": {"startWorkflow": EXPR}},
        "START_WORKFLOW", "start request chosen at run time"),
    "start_workflow_expression_name": (
        {"name": "st", "type": "START_WORKFLOW", "inputParameters": {"startWorkflow": {"name": EXPR}}},
        "START_WORKFLOW", "workflow name chosen at run time"),
    "start_workflow_definition_as_string": (start_workflow(EXPR), "START_WORKFLOW",
                                            "inline workflow definition given as an expression"),
    "plan_and_compile": ({"name": "pac", "type": "PLAN_AND_COMPILE"}, "PLAN_AND_COMPILE",
                         "compiles a workflow from a plan made at run time"),
}


@pytest.mark.parametrize("case", sorted(RUN_TIME_CHOICES))
@pytest.mark.parametrize("nesting", ["top", "switch_fork"])
def test_a_task_choosing_at_run_time_makes_usage_uncertain_and_says_where(case, nesting):
    task, task_type, reason = RUN_TIME_CHOICES[case]
    tasks, where = ([task], "tasks[0]") if nesting == "top" else (
        [simple("x"), _switch([_fork([], [task])])], 'tasks[1].decisionCases["a"][0].forkTasks[1][0]')
    index = build_usage_index([workflow("chooser", tasks, version=3)])
    assert index.uncertain == [Uncertainty("chooser", 3, where, task_type, "server", reason)]
    assert str(index.uncertain[0]) == f"chooser v3 {where} ({task_type}: {reason})"
    assert index.verdict("anything") == "uncertain"


@pytest.mark.parametrize("inline", ["sub", "start"])
@pytest.mark.parametrize("case", ["task_list", "task", "task_name"])
def test_an_expression_inside_an_inline_definition_makes_usage_uncertain(inline, case):
    tasks = {"task_list": EXPR, "task": [simple("x"), EXPR], "task_name": [simple("x"), simple(EXPR)]}[case]
    holder = sub_workflow(_inline(tasks)) if inline == "sub" else start_workflow(_inline(tasks))
    index = build_usage_index([workflow("w", [holder])])
    base = f"tasks[0].{SUB_INLINE}" if inline == "sub" else START_INLINE
    where = {"task_list": f"{base}.tasks", "task": f"{base}.tasks[1]", "task_name": f"{base}.tasks[1]"}[case]
    assert [(u.where, u.task_type) for u in index.uncertain] == [
        (where, "SIMPLE" if case == "task_name" else "INLINE_EXPRESSION")]
    assert index.verdict("anything") == "uncertain"


@pytest.mark.parametrize("task", [
    sub_workflow(None, name="child_flow"),
    {"name": "st", "type": "START_WORKFLOW", "inputParameters": {"startWorkflow": {"name": "child_flow"}}},
    dict(DYNAMIC, inputParameters={"taskToExecute": "fixed"}), simple(EXPR), {"name": "h", "type": "HTTP"},
    {"name": "c", "type": "LLM_CHAT_COMPLETE", "inputParameters": {"tools": [{"name": "t"}]}},
], ids=["sub_literal", "start_literal", "dynamic_literal",
        "top_level_name_with_dollar", "http", "llm_chat_complete"])
def test_fixed_choices_are_certain(task):
    """A top-level task name is never evaluated: `${` in it is only a character."""
    assert build_usage_index([workflow("w", [task])]).uncertain == []


def test_literal_fork_task_name_of_a_dynamic_fork_is_a_use_too():
    task = dict(FORK_DYNAMIC, inputParameters={"forkTaskName": "fixed", "forkTaskInputs": EXPR})
    index = build_usage_index([workflow("w", [task])])
    assert [str(u) for u in index.uses_of("fixed")] == ["w v1 tasks[0]"] and index.verdict("fd") == "used"


# --- a same-named task of any type is a use -----------------------------------------

# Every task type of the Conductor OSS 3.32.3 server (TaskType in conductor-common, plus the
# annotated system tasks of its AI and agent modules), Orkes types, and ones no server knows.
ALL_TASK_TYPES = [
    "SIMPLE", "DYNAMIC", "FORK_JOIN", "FORK_JOIN_DYNAMIC", "DECISION", "SWITCH", "JOIN", "DO_WHILE",
    "SUB_WORKFLOW", "START_WORKFLOW", "EVENT", "WAIT", "HUMAN", "USER_DEFINED", "HTTP", "LAMBDA", "INLINE",
    "EXCLUSIVE_JOIN", "TERMINATE", "KAFKA_PUBLISH", "JSON_JQ_TRANSFORM", "SET_VARIABLE", "NOOP", "FORK",
    "LLM_TEXT_COMPLETE", "LLM_CHAT_COMPLETE", "LLM_INDEX_TEXT", "LLM_SEARCH_INDEX", "LLM_GENERATE_EMBEDDINGS",
    "LLM_STORE_EMBEDDINGS", "LLM_GET_EMBEDDINGS", "LLM_SEARCH_EMBEDDINGS", "LIST_MCP_TOOLS", "CALL_MCP_TOOL",
    "PULL_WORKFLOW_MESSAGES", "AGENT", "GET_AGENT_CARD", "CANCEL_AGENT", "GENERATE_IMAGE", "GENERATE_AUDIO",
    "GENERATE_VIDEO", "GENERATE_PDF", "JDBC", "PLAN_AND_COMPILE", "PLANNER_CONTEXT_FETCH", "LIST_API_TOOLS",
    "WAIT_FOR_WEBHOOK", "BUSINESS_RULE", "HTTP_POLL", "MY_PLUGIN", None]


@pytest.mark.parametrize("kind", ALL_TASK_TYPES)
@pytest.mark.parametrize("nesting", ["top", "fork", "inline_start_workflow"])
def test_a_task_of_any_type_with_the_same_name_as_a_taskdef_is_a_use(kind, nesting):
    task = {"name": "notify", "taskReferenceName": "n"}
    if kind is not None:
        task["type"] = kind
    tasks = {"top": [task],
             "fork": [{"name": "f", "type": "FORK_JOIN", "forkTasks": [[task]]}],
             "inline_start_workflow": [start_workflow({"name": "child", "tasks": [task]})]}[nesting]
    index = build_usage_index([workflow("w", tasks)])
    assert index.verdict("notify") == "used"
    assert wheres(index, "notify") == {"top": ["tasks[0]"], "fork": ["tasks[0].forkTasks[0][0]"],
                                       "inline_start_workflow": [START_INLINE + ".tasks[0]"]}[nesting]


def test_an_inline_task_definition_does_not_stop_it_counting():
    with_def = {"name": "other", "taskReferenceName": "o", "type": "MY_PLUGIN", "taskDefinition": {"name": "other"}}
    assert build_usage_index([workflow("w", [with_def])]).verdict("other") == "used"


def test_simple_task_with_inline_definition_still_counts_as_a_use():
    task = dict(simple("inline_def"), taskDefinition={"name": "inline_def", "retryCount": 1})
    assert build_usage_index([workflow("w", [task])]).verdict("inline_def") == "used"


# --- malformed input ------------------------------------------------------------

def test_malformed_workflows_do_not_crash():
    tasks = [None, 1, "s", [], {"name": 5}, {"type": None, "name": "ok"},
             {"name": "f", "type": "FORK_JOIN", "forkTasks": [None, "x", [None]]},
             {"name": "s", "type": "SWITCH", "decisionCases": [1], "defaultCase": {}},
             {"name": "s2", "type": "SWITCH", "decisionCases": {"a": None, 1: [simple("k")]}},
             {"name": "sub", "type": "SUB_WORKFLOW", "subWorkflowParam": "x"},
             {"name": "sub2", "type": "SUB_WORKFLOW", "subWorkflowParam": {"workflowDefinition": "${wf.input.d}"}},
             {"name": "t", "type": ["SIMPLE"]}, {"name": "d", "type": "DYNAMIC", "inputParameters": None}]
    server = [None, 7, "text", [], {}, {"name": None, "tasks": None}, {"name": "w", "tasks": "x"},
              {"name": "w2", "version": "3", "tasks": tasks}, {"name": "w3", "version": True, "tasks": [simple("z")]}]
    index = build_usage_index(server, [None, LocalWorkflow("p", None)])  # type: ignore[list-item, arg-type]
    assert wheres(index, "ok") == ["tasks[5]"]
    assert wheres(index, "k") == ['tasks[8].decisionCases["1"][0]']
    assert index.uses_of("ok")[0].version is None      # "3" is not a version
    assert index.uses_of("z")[0].version is None       # nor is True
    assert wheres(index, "t") == ["tasks[11]"] and not bool(index.uses_of("5"))
    assert [u.task_type for u in index.uncertain] == ["SUB_WORKFLOW", "DYNAMIC"]
    json.dumps(index.to_json())


def test_non_list_inputs_give_an_empty_index():
    index = build_usage_index(None, None)  # type: ignore[arg-type]
    assert (index.uses, index.uncertain, index.verdict("x")) == ({}, [], "unused")


def _nested(levels: int) -> dict:
    task: dict = simple("bottom")
    for _ in range(levels):
        task = {"name": "loop", "type": "DO_WHILE", "loopOver": [task]}
    return workflow("deep", [task])


def test_nesting_within_the_limit_is_walked():
    index = build_usage_index([_nested(MAX_DEPTH - 1)])
    assert index.verdict("bottom") == "used"
    assert index.uses_of("bottom")[0].where == "tasks[0]" + ".loopOver[0]" * (MAX_DEPTH - 1)


def test_nesting_beyond_the_limit_stops_and_says_so():
    index = build_usage_index([_nested(5000)])
    assert index.verdict("bottom") == "uncertain"
    assert [u.task_type for u in index.uncertain] == ["UNWALKED"]


def test_yaml_alias_bomb_is_refused_by_the_reader(tmp_path: Path):
    """10**9 references if walked in full: the reader refuses the file before any value is built."""
    lines = ["l0: &l0 [{name: t}]"] + [
        f"l{i}: &l{i} [{{type: FORK_JOIN, forkTasks: [{', '.join(['*l%d' % (i - 1)] * 10)}]}}]" for i in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines + ["name: bomb", "tasks: *l9", ""]))
    local, issues = load_workflow_files(tmp_path)
    assert local == [] and [(Path(i.path).name, "alias bomb" in i.message) for i in issues] == [("bomb.yaml", True)]


def test_cyclic_structure_terminates():
    tasks: list = [simple("a")]
    tasks.append({"name": "loop", "type": "DO_WHILE", "loopOver": tasks})
    index = build_usage_index([workflow("w", tasks)])
    assert wheres(index, "a") == ["tasks[0]"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(
        ["SIMPLE", "DYNAMIC", "FORK_JOIN_DYNAMIC", "HTTP", "x", "${a}"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "type", "tasks", "forkTasks", "decisionCases", "defaultCase", "loopOver",
                         "subWorkflowParam", "workflowDefinition", "taskDefinition", "inputParameters",
                         "dynamicTaskNameParam", "version", "x"]), children, max_size=6),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4))
def test_arbitrary_json_never_crashes(server):
    index = build_usage_index(server)
    json.dumps(index.to_json())
    for w in server:
        if isinstance(w, dict):
            unknown_task_references(w, set())


# --- output ---------------------------------------------------------------------

def test_to_json_shape():
    index = build_usage_index([workflow("w", [simple("b"), simple("a"), DYNAMIC], version=2)])
    assert index.to_json() == {
        "uses": {"a": [{"workflow": "w", "version": 2, "where": "tasks[1]", "source": "server"}],
                 "b": [{"workflow": "w", "version": 2, "where": "tasks[0]", "source": "server"}],
                 "dyn": [{"workflow": "w", "version": 2, "where": "tasks[2]", "source": "server"}]},
        "uncertain": [{"workflow": "w", "version": 2, "where": "tasks[2]", "task_type": "DYNAMIC", "source": "server",
                       "reason": "task name chosen at run time"}],
    }


def test_uses_of_returns_a_copy_and_gc_state_is_restored():
    index = build_usage_index([workflow("w", [simple("a")])])
    index.uses_of("a").clear()
    assert bool(index.uses_of("a")) and gc.isenabled()
    gc.disable()
    try:
        build_usage_index([workflow("w", [simple("a")])])
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- unknown_task_references -------------------------------------------------------

def test_unknown_task_references_lists_simple_tasks_without_a_taskdef():
    fork = {"name": "f", "type": "FORK_JOIN", "forkTasks": [[simple("known"), simple("missing")]]}
    sub = {"name": "sub", "type": "SUB_WORKFLOW",
           "subWorkflowParam": {"workflowDefinition": {"tasks": [simple("nested_missing")]}}}
    tasks = [simple("known"), fork, {"name": "untyped_missing", "taskReferenceName": "u"},
             {"name": "http_call", "type": "HTTP"}, dict(simple("inline_ok"), taskDefinition={"name": "inline_ok"}),
             sub, DYNAMIC]
    assert unknown_task_references(workflow("w", tasks), {"known"}) == [
        ("missing", "tasks[1].forkTasks[0][1]"),
        ("untyped_missing", "tasks[2]"),
        ("nested_missing", "tasks[5].subWorkflowParam.workflowDefinition.tasks[0]"),
    ]
    assert unknown_task_references({"tasks": None}, set()) == []


# --- workflow files ------------------------------------------------------------

def test_invalid_json_names_path_and_line(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "name": "w",\n  "tasks": [\n    {"name": "a",}\n  ]\n}\n')
    (tmp_path / "good.json").write_text(json.dumps(workflow("good", [])))
    local, issues = load_workflow_files(tmp_path)
    assert [w.definition["name"] for w in local] == ["good"]
    assert [(i.path, i.line, i.message.startswith("invalid JSON: ")) for i in issues] == [(str(bad), 4, True)]
    assert str(issues[0]).startswith(f"{bad}:4: invalid JSON")


def test_invalid_yaml_names_path_and_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: w\ntasks:\n  - name: a\n    type: [unclosed\n  - name: b\n")
    _, issues = load_workflow_files(tmp_path)
    assert [(i.path, i.line, i.message.startswith("invalid YAML: ")) for i in issues] == [(str(bad), 5, True)]


def test_yaml_tab_indentation_error_has_a_line(tmp_path: Path):
    (tmp_path / "t.yml").write_text("name: w\ntasks:\n\t- name: a\n")
    _, issues = load_workflow_files(tmp_path)
    assert [(i.line, i.message.startswith("invalid YAML")) for i in issues] == [(3, True)]


def test_not_a_workflow_definition_is_an_issue_with_the_item_line(tmp_path: Path):
    (tmp_path / "list.json").write_text('[\n  {"name": "ok", "tasks": []},\n\n  {"name": "no_tasks"},\n  3\n]\n')
    (tmp_path / "list.yaml").write_text("- name: ok2\n  tasks: []\n- tasks: []\n")
    (tmp_path / "scalar.yaml").write_text("# comment\njust a string\n")
    (tmp_path / "empty.yml").write_text("# nothing here\n")
    local, issues = load_workflow_files(tmp_path)
    assert [w.definition["name"] for w in local] == ["ok", "ok2"]
    assert sorted((Path(i.path).name, i.line, i.message) for i in issues) == [
        ("empty.yml", 0, "empty file: no workflow definition"),
        ("list.json", 4, "item 1: workflow 'no_tasks' has no tasks list"),
        ("list.json", 5, "item 2: expected a workflow definition (a mapping with name and tasks), got int"),
        ("list.yaml", 3, "item 1: workflow definition has no name (a non-empty string)"),
        ("scalar.yaml", 2, "expected a workflow definition (a mapping with name and tasks), got str"),
    ]


def test_yaml_with_several_documents(tmp_path: Path):
    (tmp_path / "multi.yaml").write_text("name: a\ntasks: []\n---\nname: b\ntasks: []\n---\n- 1\n")
    local, issues = load_workflow_files(tmp_path)
    assert [w.definition["name"] for w in local] == ["a", "b"]
    assert [(i.line, i.message.startswith("item 0: expected")) for i in issues] == [(7, True)]


def test_unsafe_yaml_tag_and_non_utf8_are_issues(tmp_path: Path):
    (tmp_path / "evil.yaml").write_text("!!python/object/apply:os.system ['true']\n")
    (tmp_path / "latin.json").write_bytes(b'{\n"name": "caf\xe9", "tasks": []}\n')
    local, issues = load_workflow_files(tmp_path)
    assert local == [] and len(issues) == 2
    by_name = {Path(i.path).name: i for i in issues}
    assert by_name["evil.yaml"].line == 1 and "invalid YAML" in by_name["evil.yaml"].message
    assert by_name["latin.json"] == FileIssue(str(tmp_path / "latin.json"), 2, "not UTF-8 text")


def test_utf8_bom_is_accepted(tmp_path: Path):
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(workflow("bom", [])).encode())
    local, issues = load_workflow_files(tmp_path)
    assert issues == [] and local[0].definition["name"] == "bom"


def test_missing_dir_and_file_instead_of_dir(tmp_path: Path):
    assert load_workflow_files(tmp_path / "nope") == ([], [])
    (target := tmp_path / "f.json").write_text("{}")
    assert load_workflow_files(target) == ([], [FileIssue(str(target), 0, "not a directory")])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loops_and_dangling_links_are_safe(tmp_path: Path):
    (tmp_path / "wf").mkdir()
    (tmp_path / "wf" / "a.json").write_text(json.dumps(workflow("a", [simple("t")])))
    (tmp_path / "wf" / "loop").symlink_to(tmp_path / "wf", target_is_directory=True)
    (tmp_path / "wf" / "alias.json").symlink_to(tmp_path / "wf" / "a.json")
    (tmp_path / "wf" / "dangling.yaml").symlink_to(tmp_path / "wf" / "missing.yaml")
    local, issues = load_workflow_files(tmp_path / "wf")
    assert [Path(w.path).name for w in local] == ["a.json"]
    assert [(Path(i.path).name, i.message.startswith("cannot read file")) for i in issues] == [("dangling.yaml", True)]


def test_unreadable_file_is_an_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    locked = tmp_path / "locked.json"
    locked.write_text(json.dumps(workflow("w", [])))
    (tmp_path / "open.json").write_text(json.dumps(workflow("open", [])))
    real_open = os.open

    def open_(path, *args, **kwargs):  # the reader opens with os.open (O_NONBLOCK); root ignores chmod
        if Path(path).name == "locked.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    local, issues = load_workflow_files(tmp_path)
    assert [w.definition["name"] for w in local] == ["open"]
    assert issues == [FileIssue(str(locked), 0, "cannot read file: Permission denied")]


def test_unlistable_directory_is_an_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "a.json").write_text(json.dumps(workflow("a", [])))

    def failing_walk(top, onerror=None, followlinks=False):
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "secret")))
        yield str(tmp_path), [], ["a.json"]

    monkeypatch.setattr("idflow.workflowdefs.files.os.walk", failing_walk)
    local, issues = load_workflow_files(tmp_path)
    assert [w.definition["name"] for w in local] == ["a"]
    assert issues == [FileIssue(str(tmp_path / "secret"), 0, "cannot list directory: Permission denied")]
