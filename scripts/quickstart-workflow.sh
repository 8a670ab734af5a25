#!/usr/bin/env bash
# The example workflow end to end, after scripts/quickstart.sh (which calls this last):
# upload the task definitions and workflows, start the workers in the background, run
# idflow_example (idflow/workflows/example.yaml) until it ends, print its output, stop
# the workers. Uses the `idflow` first on PATH and the server of config/idflow.yml or
# CONDUCTOR_SERVER_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> idflow tasks upload --all (nothing is written when in sync)" >&2
idflow tasks upload --all
echo "==> idflow workflows upload --all" >&2
idflow workflows upload --all

log="$(mktemp "${TMPDIR:-/tmp}/idflow-worker.XXXXXX")"
echo "==> idflow worker start --all (in the background, log: $log)" >&2
idflow worker start --all 2>"$log" &
worker=$!

stop_worker() {
  if kill -0 "$worker" 2>/dev/null; then
    kill -TERM "$worker"
    wait "$worker" || true
  fi
}
trap stop_worker EXIT

for _ in $(seq 1 150); do
  if grep -q "polling" "$log"; then break; fi
  if ! kill -0 "$worker" 2>/dev/null; then
    cat "$log" >&2
    echo "the worker did not start (see above)" >&2
    exit 1
  fi
  sleep 0.1
done
grep "worker started" "$log" >&2 || true

echo "==> idflow workflow run idflow_example --wait" >&2
status=0
idflow workflow run idflow_example --input '{"name": "quickstart", "a": 2, "b": 3}' --wait --timeout 60 || status=$?

echo "==> stopping the worker (SIGTERM)" >&2
stop_worker
trap - EXIT
if [[ $status -ne 0 ]]; then
  echo "the example workflow did not complete; the worker's log:" >&2
  cat "$log" >&2
fi
rm -f "$log"
exit "$status"
