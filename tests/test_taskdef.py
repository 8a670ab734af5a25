"""TaskDef model, validation, plan and provenance: pure functions on plain data."""
from __future__ import annotations

import json

import pytest

from idflow.model import fields as taskdef
from idflow.taskdefs.plan import CREATE, FOREIGN, ORPHANED, UNCHANGED, UPDATE, Plan, fingerprint, make_plan
from idflow.provenance.trailer import Provenance, content_hash, parse_provenance, stamp
from idflow.model.validation import keyword_type_errors, validate

SEED = dict(retry_count=5, timeout_seconds=1200, timeout_policy="TIME_OUT_WF", retry_logic="EXPONENTIAL_BACKOFF",
            retry_delay_seconds=10, response_timeout_seconds=300, concurrent_exec_limit=10,
            rate_limit_frequency_in_seconds=60, rate_limit_per_frequency=100)


def test_build_maps_every_seed_keyword_to_its_wire_field():
    wire = taskdef.build("my_task", SEED, "Does things.\n\nDetails here.")
    assert wire == {"name": "my_task", "retryCount": 5, "timeoutSeconds": 1200, "timeoutPolicy": "TIME_OUT_WF",
                    "retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 10, "responseTimeoutSeconds": 300,
                    "concurrentExecLimit": 10, "rateLimitFrequencyInSeconds": 60, "rateLimitPerFrequency": 100,
                    "backoffScaleFactor": 1, "totalTimeoutSeconds": 0, "description": "Does things."}


def test_default_response_timeout_never_exceeds_timeout():
    assert taskdef.build("t", {"timeout_seconds": 60})["responseTimeoutSeconds"] == 60
    assert taskdef.build("t", {})["responseTimeoutSeconds"] == 3600
    assert validate(taskdef.build("t", {"timeout_seconds": 60})) == []


def test_optional_fields_are_owned_only_when_set():
    plain = taskdef.build("t", {})
    assert "ownerEmail" not in taskdef.owned_fields(plain)
    with_owner = taskdef.build("t", {"owner_email": "a@b.c", "input_keys": ["x"]})
    assert {"ownerEmail", "inputKeys"} <= set(taskdef.owned_fields(with_owner))


def test_server_defaults_and_representation_are_not_drift():
    desired = taskdef.build("t", {"timeout_seconds": 100, "response_timeout_seconds": 50}, "Doc.")
    server = {"name": "t", "description": "Doc.", "retryCount": 3.0, "timeoutSeconds": 100,
              "responseTimeoutSeconds": 50, "timeoutPolicy": "TIME_OUT_WF", "retryLogic": "FIXED",
              "retryDelaySeconds": 60, "rateLimitPerFrequency": 0, "rateLimitFrequencyInSeconds": 1,
              "backoffScaleFactor": 1, "totalTimeoutSeconds": 0, "pollTimeoutSeconds": None,
              "inputKeys": [], "outputKeys": [], "createTime": 1, "ownerApp": "x", "enforceSchema": False}
    assert taskdef.field_differences(desired, server) == {}


def test_one_changed_field_is_reported_old_to_new():
    desired = taskdef.build("t", {"retry_count": 7})
    server = dict(desired, retryCount=3)
    assert taskdef.field_differences(desired, server) == {"retryCount": (3, 7)}


def test_merge_keeps_fields_set_by_others_and_drops_timestamps():
    desired = taskdef.build("t", {"retry_count": 7})
    server = dict(desired, retryCount=3, inputKeys=["a"], ownerEmail="o@x.y", inputSchema={"name": "s"},
                  createTime=5, updateTime=6)
    merged = taskdef.merge(desired, server)
    assert merged["retryCount"] == 7 and merged["inputKeys"] == ["a"] and merged["ownerEmail"] == "o@x.y"
    assert merged["inputSchema"] == {"name": "s"} and "createTime" not in merged and "updateTime" not in merged


@pytest.mark.parametrize("wire, fragment", [
    ({"name": "t", "timeoutSeconds": 10, "responseTimeoutSeconds": 20}, "must be <= timeoutSeconds"),
    ({"name": "t", "responseTimeoutSeconds": 0}, "responseTimeoutSeconds must be >= 1"),
    ({"name": "t", "timeoutPolicy": "NEVER"}, "timeoutPolicy 'NEVER'"),
    ({"name": "t", "retryLogic": "RANDOM"}, "retryLogic 'RANDOM'"),
    ({"name": "t", "retryCount": -1}, "retryCount must be >= 0"),
    ({"name": "bad name"}, "may only use"),
    ({"name": "t", "rateLimitPerFrequency": 5, "rateLimitFrequencyInSeconds": 0}, "rateLimitFrequencyInSeconds"),
    ({"name": "t", "timeoutSeconds": 100, "totalTimeoutSeconds": 50}, "totalTimeoutSeconds"),
])
def test_validation_rules(wire, fragment):
    problems = validate(wire)
    assert any(fragment in p for p in problems), problems


def test_validation_reports_all_problems_at_once():
    problems = validate({"name": "t", "timeoutSeconds": 10, "responseTimeoutSeconds": 20, "retryLogic": "X",
                         "timeoutPolicy": "Y", "retryCount": -2})
    assert len(problems) == 4


def test_keyword_type_errors_name_keyword_and_type():
    problems = keyword_type_errors({"retry_count": "5", "timeout_seconds": True, "timeout_policy": 3,
                                    "input_keys": ["a", 1], "retry_delay_seconds": 1.5})
    assert len(problems) == 5
    assert any(p.startswith("retry_count must be a whole number, got str") for p in problems)


def test_plan_sorts_every_task_into_one_category():
    mine = Provenance("a" * 40, False, "idflow/tasks/old/old.py", content_hash(taskdef.build("old", {})),
                      "2026-01-01T00:00:00+00:00")
    desired = [taskdef.build("new", {}), taskdef.build("same", {}), taskdef.build("changed", {"retry_count": 9})]
    actual = [dict(taskdef.build("same", {}), createTime=1), taskdef.build("changed", {}),
              dict(taskdef.build("old", {}), description=stamp("", mine)), taskdef.build("theirs", {})]
    plan = make_plan(desired, actual)
    assert {i.name: i.action for i in plan.items} == {"new": CREATE, "same": UNCHANGED, "changed": UPDATE,
                                                       "old": ORPHANED, "theirs": FOREIGN}
    assert plan.item("changed").changes[0].field == "retryCount"
    assert plan.summary()["remote_only"] == ["old", "theirs"] and plan.has_drift
    assert [i.name for i in plan.to_write] == ["changed", "new"]


def test_forced_plan_writes_unchanged_too():
    plan = make_plan([taskdef.build("same", {})], [taskdef.build("same", {})], force=True)
    assert [i.name for i in plan.to_write] == ["same"] and not plan.has_drift


def test_plan_json_round_trip_is_lossless():
    prov = Provenance("b" * 40, True, "p.py", "h", "t")
    plan = make_plan([taskdef.build("x", {"retry_count": 1})], [taskdef.build("x", {})], provenance={"x": prov},
                     server_url="http://s/api")
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert again == plan


def test_plan_from_json_rejects_foreign_documents():
    with pytest.raises(ValueError):
        Plan.from_json({"items": []})
    with pytest.raises(ValueError):
        Plan.from_json({"format": 1, "items": [{"name": "x", "action": "explode"}]})


def test_fingerprint_changes_with_any_server_write():
    copy = taskdef.build("x", {})
    assert fingerprint(copy) == fingerprint(dict(copy))
    assert fingerprint(copy) != fingerprint(dict(copy, updateTime=2))
    assert fingerprint(None) is None


def test_provenance_trailer_round_trips_and_is_never_drift():
    wire = taskdef.build("x", {}, "Hello.")
    prov = Provenance("c" * 40, False, "idflow/tasks/x/x.py", content_hash(wire), "2026-11-26T00:00:00+00:00")
    described = stamp(wire["description"], prov)
    assert parse_provenance(described) == prov
    assert taskdef.field_differences(wire, dict(wire, description=described)) == {}
    assert stamp(described, prov) == described  # restamping replaces, never stacks
    assert parse_provenance("plain text") is None
    assert parse_provenance("x" + taskdef.PROVENANCE_MARKER + "{not json") is None


def test_content_hash_ignores_provenance_and_tracks_owned_fields():
    wire = taskdef.build("x", {}, "Hello.")
    prov = Provenance(None, False, "p", "h", "t")
    assert content_hash(wire) == content_hash(dict(wire, description=stamp("Hello.", prov)))
    assert content_hash(wire) != content_hash(dict(wire, retryCount=9))


def test_a_definition_stamped_by_another_project_is_foreign_not_orphaned():
    theirs = Provenance("a" * 40, False, "p.py", "h", "t", project="billing")
    ours = Provenance("a" * 40, False, "p.py", content_hash(taskdef.build("y", {})), "t", project="orders")
    actual = [dict(taskdef.build("x", {}), description=stamp("", theirs)),
              dict(taskdef.build("y", {}), description=stamp("", ours))]
    plan = make_plan([], actual, project="orders")
    assert plan.names(ORPHANED) == ["y"] and plan.names(FOREIGN) == ["x"]
