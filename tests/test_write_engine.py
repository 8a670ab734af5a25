"""The write engine's account, for any history of answers: every write is in exactly one place, and only
what the server holds afterwards is ever called done.

The kinds' endpoints are tested against the real server (test_readback, test_exact_deletes,
test_events_cli, test_workflow_restore, test_interrupt_writes, test_faults); here the loop itself
runs over an in-memory store, so that hypothesis can generate the histories a server gives rarely:
a batch refused, a batch answered with an error yet written, a read-back cut, a signal between batches.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from hypothesis import given, settings, strategies as st

from idflow.base.errors import ConductorError, ServerUnavailable
from idflow.base.interrupt import Interruption
from idflow.engine.write import Endpoint, Write, WriteResult, execute, gone


class Store:
    """What a server holds, and what it answers to each batch (in order)."""

    def __init__(self, answers: list[str], read_fails: bool) -> None:
        self.held: dict[str, dict[str, Any]] = {}
        self.answers = list(answers)
        self.read_fails = read_fails
        self.sent: list[str] = []
        self.interruption: Interruption | None = None
        self.interrupt_after: int | None = None

    def send(self, client: Any, batch: Sequence[Write]) -> None:
        answer = self.answers.pop(0) if self.answers else "ok"
        self.sent += [w.key for w in batch]
        if answer in ("ok", "error_but_written"):
            for write in batch:
                if write.body is None:
                    self.held.pop(write.key, None)
                else:
                    self.held[write.key] = dict(write.body)
        if self.interrupt_after is not None and len(self.sent) >= self.interrupt_after and self.interruption:
            self.interruption.on_signal(2)
        if answer == "refused":
            raise ConductorError("refused by the server", status=400)
        if answer == "error_but_written":
            raise ServerUnavailable("answered 503 after writing", status=503)

    def read(self, client: Any, writes: Sequence[Write]) -> dict[str, Any]:
        if self.read_fails:
            raise ConductorError("read-back cut", status=500)
        return dict(self.held)


def same(write: Write, held: dict[str, Any] | None) -> list[str]:
    return [] if held == write.body else ["the server holds something else"]


histories = st.fixed_dictionaries({
    "n": st.integers(0, 12), "batch": st.integers(1, 5), "concurrency": st.sampled_from([1, 3]),
    "stop": st.booleans(), "deletes": st.booleans(), "read_fails": st.booleans(),
    "answers": st.lists(st.sampled_from(["ok", "ok", "refused", "error_but_written"]), max_size=12),
    "interrupt_after": st.one_of(st.none(), st.integers(1, 12))})


@settings(max_examples=300, deadline=None)
@given(histories)
def test_every_write_is_accounted_once_and_done_means_held(tmp_path_factory, h):
    store = Store(h["answers"], h["read_fails"])
    interruption = Interruption()
    store.interruption, store.interrupt_after = interruption, h["interrupt_after"]
    keys = [f"d{i}" for i in range(h["n"])]
    if h["deletes"]:
        store.held = {k: {"name": k} for k in keys}
        writes = [Write(k, "deleted", replaces={"name": k}) for k in keys]
        target = Endpoint("taskdefs", store.send, store.read, gone, batch_size=h["batch"],
                          concurrency=h["concurrency"], stop_on_failure=h["stop"])
    else:
        writes = [Write(k, "created", {"name": k, "v": 1}) for k in keys]
        target = Endpoint("taskdefs", store.send, store.read, same, batch_size=h["batch"],
                          concurrency=h["concurrency"], stop_on_failure=h["stop"])
    state = tmp_path_factory.mktemp("state")
    result = execute(object(), writes, target, state_dir=state, reason="test", actions=[writes[0].action]
                     if writes else ["created"], interruption=interruption)

    done = [r for refs in result.done.values() for r in refs]
    failed = [f["name"] for f in result.failed]
    unknown = [f["name"] for f in result.unknown]
    assert sorted(done + failed + unknown + result.not_attempted) == sorted(keys)   # each exactly once
    assert set(result.not_attempted).isdisjoint(store.sent)                           # never sent
    assert set(done + failed + unknown) == set(store.sent)                            # every sent one accounted
    for key in done:                                                                  # done: the server holds it
        assert (key not in store.held) if h["deletes"] else store.held.get(key) == {"name": key, "v": 1}
    if h["read_fails"]:
        assert done == [] and failed == []                                            # nobody can say
    assert result.ok == (not failed and not unknown and not result.not_attempted)
    if result.not_attempted and not interruption.requested:
        assert h["stop"] and store.sent                                               # only a stopping failure
    assert json.loads(json.dumps(result.to_json())) == WriteResult.from_json(result.to_json()).to_json()
    if h["deletes"] and keys:
        backed = json.loads(Path(result.backup).read_text())["taskdefs"]
        assert [d["name"] for d in backed] == keys                                    # all backed up first


def test_nothing_to_write_sends_nothing_and_writes_no_backup(tmp_path):
    store = Store([], read_fails=False)
    target = Endpoint("taskdefs", store.send, store.read, same)
    result = execute(object(), [], target, state_dir=tmp_path, reason="test", actions=["created"])
    assert result.ok and result.backup is None and store.sent == [] and result.to_json()["created"] == []
    assert not (tmp_path / "backups").exists()
