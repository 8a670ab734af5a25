"""The operation registry (idflow.usecases.registry) is the one list of operations: every flow, the
`--prefect` bridge, the flow entrypoints, prefect.yaml and the CLI's commands agree with it."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads)
from idflow.usecases.registry import COMMON, FLOW_NAMES, OPERATIONS

REPO = Path(__file__).resolve().parent.parent
PREFECT_FILES = (REPO / "prefect.yaml", REPO / "idflow" / "templates" / "prefect.yaml")
# Commands that change something and are no operation, each with the reason.
NOT_OPERATIONS = {
    "workflow run": "starts an execution: changes no definition",
    "workflow terminate": "stops an execution: changes no definition",
    "workflow retry": "retries an execution: changes no definition",
}


def commands() -> dict[str, set[str]]:
    """Every CLI command ("tasks upload") with its parameters' names, from the declarations in groups.py
    (tests/test_lazy_commands.py holds them equal to what typer registers)."""
    import importlib

    from idflow.cli import groups

    found = {}
    for group, name, target, _help in groups.COMMANDS:
        module, _, function = target.partition(":")
        callback = getattr(importlib.import_module(module), function)
        found[f"{group} {name}".strip()] = set(inspect.signature(callback).parameters)
    return found


def test_importing_the_registry_costs_nothing():
    probe = ("import json, sys; import idflow.usecases.registry; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                           check=True, cwd=REPO).stdout))
    assert not loaded & {"prefect", "typer", "click", "rich", "httpx", "git", "pydantic", "yaml"}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_an_operation_names_a_use_case_that_takes_its_parameters(name):
    op = OPERATIONS[name]
    assert op.name == name and op.name.isidentifier()
    accepted = inspect.signature(op.load_usecase()).parameters
    if not op.custom_flow:  # a generated flow passes the use case its parameters and run=prefect_steps
        assert "run" in accepted, f"{op.usecase} must take run: StepRunner"
        assert {p.usecase_arg for p in op.params} <= set(accepted)
    outcome = op.load_outcome()
    assert inspect.isclass(outcome) and hasattr(outcome, "to_json")


def test_every_writing_command_is_an_operation_and_every_operation_a_command():
    found = commands()
    declared = {op.command for op in OPERATIONS.values()}
    assert declared <= set(found), declared - set(found)
    writing = {name for name, params in found.items() if params & {"dry_run", "yes"}}
    assert writing - set(NOT_OPERATIONS) <= declared, writing - set(NOT_OPERATIONS) - declared
    assert set(NOT_OPERATIONS) <= set(found)
    assert {op.command for op in OPERATIONS.values() if op.writes} <= writing


def test_every_operation_is_a_flow_and_every_flow_an_operation():
    from idflow.cli import prefect_bridge
    from idflow.flows.definitions import FLOWS

    assert set(FLOWS) == set(OPERATIONS) == set(prefect_bridge.FLOW_NAMES) == set(FLOW_NAMES)
    assert len({op.flow for op in OPERATIONS.values()}) == len(OPERATIONS)
    for name, op in OPERATIONS.items():
        assert FLOWS[name].name == op.flow


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_flow_takes_the_parameters_its_operation_declares(name):
    from idflow.flows.definitions import FLOWS

    op = OPERATIONS[name]
    taken = inspect.signature(FLOWS[name].fn).parameters
    declared = {p.name: p for p in (*op.params, *COMMON)}
    assert set(taken) == set(declared)
    for pname, param in declared.items():
        default = taken[pname].default
        assert (default is inspect.Parameter.empty) if param.required else default == param.default, pname


def test_every_operation_is_an_entrypoint_of_both_modules():
    from flows import idflow_flows
    from idflow.flows import definitions

    for name in OPERATIONS:
        assert getattr(idflow_flows, name) is definitions.FLOWS[name] is getattr(definitions, name)


def test_no_import_of_the_flows_module_is_shadowed_by_a_generated_flow():
    """definitions.py puts every generated flow into its globals: an imported name that is also a flow's name
    (the use case `events_upload`, say) would be replaced by the flow, and a hand-written flow calling it breaks."""
    import ast

    from idflow.flows import definitions

    imported = {alias.asname or alias.name.split(".")[0]
                for node in ast.parse(Path(definitions.__file__).read_text(encoding="utf-8")).body
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert not imported & set(definitions.GENERATED)


def entrypoints() -> list[tuple[str, str]]:
    found = []
    for path in PREFECT_FILES:
        for deployment in yaml.safe_load(path.read_text())["deployments"]:
            found.append((path.name if path.parent == REPO else "template", deployment["entrypoint"]))
    return found


@pytest.mark.parametrize("where, entrypoint", entrypoints())
def test_every_deployed_entrypoint_is_a_flow_prefect_can_load(where, entrypoint, monkeypatch):
    from prefect.flows import Flow, load_flow_from_entrypoint

    monkeypatch.chdir(REPO)  # prefect.yaml's entrypoints are relative to the checkout
    loaded = load_flow_from_entrypoint(entrypoint)
    assert isinstance(loaded, Flow) and loaded.name in {op.flow for op in OPERATIONS.values()}


def test_a_misnamed_entrypoint_is_caught(tmp_path, monkeypatch):
    """The check above fails for an entrypoint that names no flow (what a typo in prefect.yaml does)."""
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(REPO)
    with pytest.raises(Exception):
        load_flow_from_entrypoint("flows/idflow_flows.py:events_uplod")


def test_flow_values_become_the_use_case_keywords():
    from idflow.flows.factory import usecase_kwargs

    op = OPERATIONS["restore"]
    kwargs = usecase_kwargs(op.params, {"file": "b.json", "names": None, "dry_run": True})
    assert kwargs == {"path": Path("b.json"), "dry_run": True}      # None keeps the use case's own default
    rollback = usecase_kwargs(OPERATIONS["rollback"].params, {"to": "abc", "task_names": ["x"], "dry_run": False,
                                                              "pause_schedules": False})
    assert rollback["rev"] == "abc" and rollback["names"] == ["x"] and rollback["schedules"].pause is False


def test_a_run_that_did_not_do_everything_names_what_is_missing_nested_accounts_included():
    from idflow.flows.artifacts import account_markdown
    from idflow.flows.factory import not_done

    doc = {"written": [{"name": "a", "path": "p"}], "failed": [], "not_attempted": ["b"],
           "stamped": {"created": [], "updated": ["a"], "failed": [{"name": "c", "errors": ["500"]}],
                       "unknown": [], "not_attempted": []}}
    assert not_done(doc) == ["b", "c"]
    text = account_markdown("idflow tasks import", doc)
    assert "| b | not attempted |" in text and "| c | failed | 500 |" in text and "## idflow tasks import: stamped" in text


def test_every_write_operation_is_run_as_flow_and_command_by_the_contract_test():
    import inspect as inspect_

    from tests.test_cli_flow_contract import COVERED

    writes = {name for name, op in OPERATIONS.items() if op.writes}
    assert writes <= set(COVERED), f"add a test to tests/test_cli_flow_contract.py for {sorted(writes - set(COVERED))}"
    for name in writes:
        source = inspect_.getsource(COVERED[name])
        op = OPERATIONS[name]
        assert f'as_flow("{name}"' in source or ("both(" in source and op.command.split()[-1] in source), name
