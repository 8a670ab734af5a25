"""ID Flow's own way to compare task files with the server, written naively: the comparison
for `idflow tasks list --sync` in bench_startup.py.

It imports every task module (each decorator call needs the conductor SDK), reads the task
names from the SDK's worker registry, does one GET of all task definitions through the
SDK's MetadataClient, and compares the names.

    python benchmarks/idflow_style_sync.py TASKS_DIR [SERVER_API_URL]
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path


def main(tasks_dir: Path, api_url: str) -> int:
    sys.path.insert(0, str(tasks_dir))
    for folder in sorted(tasks_dir.iterdir()):
        if (folder / f"{folder.name}.py").is_file():
            importlib.import_module(f"{folder.name}.{folder.name}")

    from conductor.client.automator.task_handler import get_registered_worker_names
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.orkes_clients import OrkesClients

    local = set(get_registered_worker_names())
    metadata = OrkesClients(configuration=Configuration(server_api_url=api_url)).get_metadata_client()
    remote = {taskdef.name for taskdef in metadata.get_all_task_defs()}
    print(f"in both: {len(local & remote)}, only local: {len(local - remote)}, "
          f"only on the server: {len(remote - local)}")
    return 0


if __name__ == "__main__":
    default_url = os.environ.get("CONDUCTOR_SERVER_URL", "http://127.0.0.1:8080/api")
    sys.exit(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else default_url))
