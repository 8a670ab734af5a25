"""`tasks status` without a server: durations, statistics, what needs attention, the JSON round trip,
and the table's refusal to show a value the server did not give as 0."""
from __future__ import annotations

import json

import pytest

from idflow.monitoring.assemble import (Observed, build_report, parse_duration, parse_rate, percentile, summarise)
from idflow.monitoring.report import EMPTY, INDEXED, UNAVAILABLE, StatusReport, Thresholds

NOW = 1_800_000_000_000
T = Thresholds(window_seconds=3600, unserved_after_seconds=60, failing_above=0.1)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400),
                                           ("2d", 172800), (" 1 h ", 3600), ("1500ms", 1)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1x", "-5m", "0s", "1h foo", "10ms"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text, rate", [("10%", 0.1), ("0.25", 0.25), ("0", 0.0), ("100%", 1.0)])
def test_rates(text, rate):
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text", ["150%", "-0.1", "nan", "x"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


@pytest.mark.parametrize("values, q, expected", [([], 50, None), ([5], 95, 5.0), ([1, 2, 3, 4], 50, 2.0),
                                                 (list(range(1, 101)), 95, 95.0), ([3, 1, 2], 100, 3.0)])
def test_percentile_is_nearest_rank(values, q, expected):
    assert percentile(values, q) == expected


def iso(ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ex(name, status, end_ms, took=100):
    return {"taskType": name, "taskDefName": name, "status": status, "endTime": iso(end_ms), "executionTime": took}


def poll(name, worker, age_s):
    return {"queueName": name, "workerId": worker, "lastPollTime": NOW - int(age_s * 1000)}


def report(*, local=(), remote=(), used=(), queues=None, polls=(), search=INDEXED, finished=(), running=(),
           names=None, thresholds=T):
    observed = Observed({} if queues is None else queues, list(polls), search, list(finished), list(running),
                        busy=bool(polls))
    actions = {n: "unchanged" for n in set(local) & set(remote)}
    actions.update({n: "create" for n in set(local) - set(remote)})
    return build_report(local=local, remote=remote, actions=actions, used=used, observed=observed, now_ms=NOW,
                        thresholds=thresholds, names=names)


def row(rep, name):
    return next(t for t in rep.tasks if t.name == name)


@pytest.mark.parametrize("queue, ages, expected", [
    (3, [], ["unserved"]),             # a queue, never polled
    (3, [61], ["unserved"]),           # its worker stopped: last poll older than --unserved-after
    (3, [5], []),                      # a live worker
    (3, [200, 5], []),                 # one of two workers still polls
    (0, [], []),                       # nothing waits: not unserved (idle)
])
def test_unserved_is_queued_work_without_a_recent_poll(queue, ages, expected):
    rep = report(local=["a"], remote=["a"], used=["a"], queues={"a": queue},
                 polls=[poll("a", f"w{i}", age) for i, age in enumerate(ages)])
    assert row(rep, "a").attention == expected
    assert row(rep, "a").live_workers == sum(1 for a in ages if a <= 60)


@pytest.mark.parametrize("completed, failed, expected_rate, failing", [
    (9, 1, 0.1, False), (8, 2, 0.2, True), (0, 3, 1.0, True), (5, 0, 0.0, False), (0, 0, None, False)])
def test_failure_rate_and_the_failing_threshold(completed, failed, expected_rate, failing):
    finished = [ex("a", "COMPLETED", NOW - 1000)] * completed + [ex("a", "FAILED", NOW - 1000)] * failed
    rep = report(local=["a"], remote=["a"], finished=finished)
    a = row(rep, "a")
    assert (a.completed, a.failed) == (completed, failed)
    assert a.failure_rate == (pytest.approx(expected_rate) if expected_rate is not None else None)
    assert ("failing" in a.attention) is failing


def test_executions_outside_the_window_or_of_other_statuses_are_not_counted():
    finished = [ex("a", "COMPLETED", NOW - 10_000, 100), ex("a", "COMPLETED", NOW - 4_000_000, 900),  # too old
                ex("a", "TIMED_OUT", NOW - 5_000, 300), ex("a", "FAILED_WITH_TERMINAL_ERROR", NOW - 5_000, 200),
                ex("a", "CANCELED", NOW - 5_000)]
    seen = summarise(finished, [{"taskType": "a", "status": "IN_PROGRESS"}, {"taskType": "a", "status": "SCHEDULED"}],
                     NOW - 3_600_000)
    assert seen.completed["a"] == 1 and seen.failed["a"] == 2 and seen.running["a"] == 1
    assert sorted(seen.times["a"]) == [100, 200, 300]


def test_p50_and_p95_come_from_the_execution_times_in_the_window():
    finished = [ex("a", "COMPLETED", NOW - 1000, took) for took in range(10, 1010, 10)]
    a = row(report(local=["a"], remote=["a"], finished=finished), "a")
    assert (a.p50_ms, a.p95_ms) == (500.0, 950.0)


def test_a_worker_polling_a_type_without_a_definition_needs_attention():
    rep = report(local=["a"], remote=["a"], polls=[poll("ghost", "w1", 2), poll("a", "w1", 2)])
    assert row(rep, "ghost").attention == ["undefined"] and row(rep, "ghost").sync == "no definition"
    assert row(rep, "a").attention == []
    assert rep.needs_attention() == ["undefined"]


def test_domain_queues_add_up_and_the_servers_own_queues_are_not_rows():
    rep = report(remote=["a"], queues={"a": 1, "eu:a": 2, "_deciderQueue": 9, "HTTP": 0},
                 polls=[{"queueName": "a", "domain": "eu", "workerId": "w", "lastPollTime": NOW - 1000}])
    assert [t.name for t in rep.tasks] == ["a"]
    assert row(rep, "a").queue == 3 and row(rep, "a").pollers[0].domain == "eu"


@pytest.mark.parametrize("search", [EMPTY, UNAVAILABLE])
def test_without_a_search_index_the_execution_columns_are_null_never_zero(search):
    rep = report(local=["a"], remote=["a"], queues={"a": 2}, polls=[poll("a", "w", 1)], search=search,
                 finished=[ex("a", "FAILED", NOW - 1000)])
    doc = rep.to_json()
    [a] = doc["tasks"]
    assert [a[k] for k in ("in_progress", "completed", "failed", "failure_rate", "p50_ms", "p95_ms")] == [None] * 6
    assert a["queue"] == 2 and doc["search"] == search and doc["search_note"]


def test_no_queue_endpoint_means_no_queue_value():
    rep = build_report(local=["a"], remote=[], actions={}, used=[], observed=Observed(None, [], EMPTY), now_ms=NOW,
                       thresholds=T)
    assert row(rep, "a").queue is None and row(rep, "a").attention == []


def test_named_tasks_only():
    rep = report(local=["a", "b"], remote=["a", "b", "c"], names=["b", "zzz"])
    assert [t.name for t in rep.tasks] == ["b", "zzz"] and row(rep, "zzz").sync == "no definition"


def test_the_report_round_trips_through_its_json():
    rep = report(local=["a", "b"], remote=["a"], used=["a"], queues={"a": 4}, polls=[poll("a", "w", 90)],
                 finished=[ex("a", "FAILED", NOW - 1000), ex("a", "COMPLETED", NOW - 1000, 40)])
    rep.requests = 7
    doc = json.loads(json.dumps(rep.to_json()))
    again = StatusReport.from_json(doc)
    assert again.to_json() == doc and again == rep
    assert doc["counts"] == {"tasks": 2, "local": 2, "served": 0, "unserved": 1, "failing": 1, "undefined": 0}
    assert doc["summary"] == "1 unserved; 1 failing (0 of 2 local task(s) have a polling worker)"


def render(rep, width=200) -> str:
    import io

    from rich.console import Console

    from idflow.cli.render.status import render_status

    buffer = io.StringIO()
    render_status(Console(file=buffer, width=width, color_system=None), rep)
    return buffer.getvalue()


def test_the_table_says_n_a_where_the_server_gave_nothing_and_says_why_once():
    text = render(report(local=["a"], remote=["a"], queues={"a": 2}, polls=[poll("a", "w", 1)], search=EMPTY))
    line = next(l for l in text.splitlines() if l.strip().startswith("a "))
    cells = line.split()
    assert cells[:5] == ["a", "in", "sync", "no", "2"] and cells.count("n/a") == 6 and "0" not in cells[5:]
    assert text.count("note:") == 1 and "no index" in text


def test_the_table_shows_counts_rates_and_times_from_an_index():
    finished = [ex("a", "FAILED", NOW - 1000, 2500)] + [ex("a", "COMPLETED", NOW - 1000, 40)] * 3
    text = render(report(local=["a"], remote=["a"], used=["a"], queues={"a": 0}, polls=[poll("a", "w", 3)],
                         finished=finished))
    line = next(l for l in text.splitlines() if l.strip().startswith("a "))
    assert "1 live / 1 seen" in line and "3s ago" in line and "25%" in line and "40 ms" in line and "2.5 s" in line
    assert "failing" in line and "note:" not in text


@pytest.mark.parametrize("action, label", [("unchanged", "in sync"), ("update", "changed"), ("create", "only in code"),
                                           ("foreign", "only on server"), ("edited_on_server", "edited on the server"),
                                           ("some_new_state", "some new state"), (None, "no definition")])
def test_every_plan_action_has_a_label_and_a_new_one_is_still_shown(action, label):
    from idflow.monitoring.assemble import sync_label

    assert sync_label(action) == label
