"""Layered task sources: `tasks_dirs:` in override order, as in ID Flow's resource overlay.

A package's own tasks, then vendored ones, then the project's: each layer is discovered
on its own (so two files in one layer defining a name stay a duplicate error), then a
task of a later layer replaces the same-named tasks of earlier layers, and says so in
`overrides`. One parse cache serves every layer and is written once.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

from idflow.discovery.assemble import Discovery, DiscoveredTask, Issue, discover
from idflow.discovery.walk import ParseCache, display_path


def task_layers(config: Any) -> list[Path]:
    """The task dirs to read, in override order: `tasks_dirs`, with `tasks_dir` (the project's) last unless listed."""
    layers = [config.resolve(d) for d in (getattr(config, "tasks_dirs", None) or ())]
    own = config.resolve(config.tasks_dir)
    if own not in layers:
        layers.append(own)
    return list(dict.fromkeys(layers))


def optional_layers(config: Any) -> set[Path]:
    return {config.resolve(d) for d in (getattr(config, "optional_tasks_dirs", None) or ())}


def present_layers(config: Any) -> list[Path]:
    """The layers to read: an optional layer that is missing is left out, not an error."""
    optional = optional_layers(config)
    return [layer for layer in task_layers(config) if layer not in optional or layer.is_dir()]


def empty_layers(config: Any, discovery: Discovery) -> list[str]:
    """`tasks_dirs` layers that hold no task file (missing ones too), unless the config says they may be empty.

    Such a layer (an uninitialised submodule, a clone without submodules) would turn every
    definition it declares into an orphan, so a purge must not trust it."""
    optional = optional_layers(config) | {config.resolve(config.tasks_dir)}  # the project's own may be emptied
    found = {t.layer for t in discovery.tasks}
    replaced = [o for t in discovery.tasks for o in t.overrides]
    problems = {i.path for i in discovery.issues}
    empty = []
    for layer in task_layers(config):
        shown = display_path(layer)
        if layer in optional:
            continue
        if not layer.is_dir():
            empty.append(shown)
            continue
        if shown in found or any(p == shown or p.startswith(shown + "/") for p in problems):
            continue
        if any(o.startswith(shown + "/") for o in replaced):
            continue
        empty.append(shown)
    return empty


def discover_layers(dirs: Iterable[str | Path], *, cache_dir: Path | None = None) -> Discovery:
    """Discovery over several task dirs; a later dir's task overrides an earlier one's of the same name.

    A directory listed twice (by another spelling, or through a symbolic link) is read once, where it
    is first listed, and a warning says so: it cannot override itself.
    """
    cache = ParseCache(cache_dir)
    layers, repeated = _distinct(dirs)
    found = [discover(d, cache=cache) for d in layers]
    cache.save()
    if repeated:
        found[0].issues.extend(repeated)
    if len(found) == 1:
        return found[0]
    tasks: list[DiscoveredTask] = []
    issues = [issue for layer in found for issue in layer.issues]
    for layer in found:
        names = {t.name for t in layer.tasks}
        shadowed = [t for t in tasks if t.name in names]
        kept = [t for t in tasks if t.name not in names]
        for task in layer.tasks:
            replaced = tuple(f"{t.path}:{t.line}" for t in shadowed if t.name == task.name)
            kept.append(replace(task, overrides=replaced + _earlier(shadowed, task.name)) if replaced else task)
        tasks = kept
    # Layer order, not path order: the worker imports in this order, so a later layer's decorator registers last.
    return Discovery(tasks, issues)


def _distinct(dirs: Iterable[str | Path]) -> tuple[list[str | Path], list[Issue]]:
    """Each directory once, in the order first listed; a repeat becomes a warning."""
    first: dict[tuple[int, int], str] = {}
    kept: list[str | Path] = []
    repeated: list[Issue] = []
    for folder in dirs:
        try:
            st = os.stat(folder)
        except OSError:  # discover() says what is wrong with it
            kept.append(folder)
            continue
        key = (st.st_dev, st.st_ino)
        if key in first:
            shown = display_path(folder)
            repeated.append(Issue(shown, 0, f"{shown} is the same directory as {first[key]}, listed before it "
                                            "(tasks_dirs, then tasks_dir): it is read once, where it comes first; "
                                            "list it once", "warning"))
            continue
        first[key] = display_path(folder)
        kept.append(folder)
    return kept, repeated


def _earlier(shadowed: list[DiscoveredTask], name: str) -> tuple[str, ...]:
    """What the replaced tasks had themselves overridden: the whole chain, nearest first."""
    return tuple(o for t in shadowed if t.name == name for o in t.overrides)
