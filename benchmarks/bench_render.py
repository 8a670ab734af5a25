"""Benchmark rendering a large task listing: `tasks list --remote` and `--sync` as text and as JSON.

A rich Table lays out every cell (measure, wrap, pad); at 50,000 rows that took minutes. Beyond
`FAST_ROWS` rows idflow writes plain aligned lines instead. This times, for N definitions:
- the text listing as idflow renders it now (plain lines above FAST_ROWS);
- the same rows through a rich Table (what it cost before), on a smaller N unless --rich-all;
- the JSON document (json.dumps), for comparison. Run:

    python benchmarks/bench_render.py [--rows 50000] [--rich-rows 2000] [--rich-all]
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402

from idflow.cli.render import table as table_module  # noqa: E402
from idflow.cli.render.tasks import render_remote, render_sync  # noqa: E402
from idflow.taskdefs.plan import make_plan  # noqa: E402


def definitions(count: int) -> list[dict]:
    return [{"name": f"bench_task_{i}", "retryCount": i % 5, "timeoutSeconds": 3600, "responseTimeoutSeconds": 600,
             "timeoutPolicy": "TIME_OUT_WF", "retryLogic": "FIXED", "description": "a benchmark definition"}
            for i in range(count)]


def timed(label: str, work) -> float:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<52} {elapsed:8.3f} s")
    return elapsed


def console() -> Console:
    return Console(file=io.StringIO(), width=120, color_system=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rich-rows", type=int, default=2_000, help="rows for the rich Table comparison")
    parser.add_argument("--rich-all", action="store_true", help="time the rich Table on --rows too (minutes)")
    args = parser.parse_args()
    defs = definitions(args.rows)
    usage = {d["name"]: 1 for d in defs}
    plan = make_plan(defs[: args.rows // 2], defs)
    print(f"{args.rows} definitions (FAST_ROWS = {table_module.FAST_ROWS})")
    timed("tasks list --remote, text (idflow now)", lambda: render_remote(console(), defs, usage=usage))
    timed("tasks list --sync, text (idflow now)", lambda: render_sync(console(), plan))
    timed("tasks list --remote --json (json.dumps)", lambda: json.dumps({"remote": defs, "usage": usage}, indent=2))
    rich_rows = args.rows if args.rich_all else min(args.rich_rows, args.rows)
    saved = table_module.FAST_ROWS
    table_module.FAST_ROWS = 10 ** 9  # force the rich Table, as before
    try:
        spent = timed(f"tasks list --remote, rich Table, {rich_rows} rows",
                      lambda: render_remote(console(), defs[:rich_rows], usage=usage))
    finally:
        table_module.FAST_ROWS = saved
    if rich_rows < args.rows:
        print(f"{'  rich Table extrapolated to ' + str(args.rows) + ' rows':<52} {spent * args.rows / rich_rows:8.1f} s")


if __name__ == "__main__":
    main()
