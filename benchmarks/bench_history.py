"""`idflow tasks history` on a task with many commits (no server needed for the Git part).

    python benchmarks/bench_history.py [--commits 500]

Builds a temp repository where one task file gets `--commits` commits (every other one
changes its definition, the rest only touch a comment or another file) and times
`gitsource.history`, which is what the command spends its time in.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import write_task  # noqa: E402
from idflow.provenance.history import history, open_tree  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=500)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="idflow-bench-history-"))
    tasks = root / "idflow" / "tasks"
    tasks.mkdir(parents=True)
    git = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    git("init", "-q", "-b", "main")
    git("config", "user.email", "bench@example.org")
    git("config", "user.name", "Bench")
    for other in range(20):
        write_task(tasks, f"other{other}", 1)
    start = time.perf_counter()
    # fast-import keeps setup quick: one commit per step, written as a stream
    stream = []
    for i in range(args.commits):
        write_task(tasks, "hot", retry=i // 2)
        content = (tasks / "hot" / "hot.py").read_text() + (f"# touch {i}\n" if i % 2 else "")
        data = content.encode()
        stream.append(f"commit refs/heads/main\ncommitter Bench <bench@example.org> {1700000000 + i} +0000\n"
                      f"data {len(f'step {i}')}\nstep {i}\n")
        if i == 0:
            for other in range(20):
                body = (tasks / f"other{other}" / f"other{other}.py").read_bytes()
                stream.append(f"M 100644 inline idflow/tasks/other{other}/other{other}.py\ndata {len(body)}\n")
                stream.append(body.decode() + "\n")
        stream.append(f"M 100644 inline idflow/tasks/hot/hot.py\ndata {len(data)}\n{content}\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True)
    git("reset", "-q", "--hard", "main")
    setup = time.perf_counter() - start
    tree = open_tree(tasks)
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        entries = history(tree, "hot", "hot")
        timings.append(time.perf_counter() - t)
    print(f"{args.commits} commits touching the task ({setup:.1f} s to build the repo)")
    print(f"history: {len(entries)} definition-changing commits found; "
          f"best {min(timings):.3f} s, worst {max(timings):.3f} s over 3 runs")


if __name__ == "__main__":
    main()
