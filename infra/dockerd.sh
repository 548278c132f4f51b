#!/usr/bin/env bash
# Start or stop a background dockerd for the local SAM harness.
#
# `start` does nothing when a Docker daemon already answers; otherwise it starts one and records its pid,
# so that `stop` only ever stops a daemon this script started (a developer's own dockerd is left alone).
#   infra/dockerd.sh start   -> prints "dockerd: running" or "dockerd: started <pid>"
#   infra/dockerd.sh stop    -> stops the daemon recorded by `start`, if any
set -euo pipefail

PIDFILE="${CXR_DOCKERD_PIDFILE:-/tmp/cxr-dockerd.pid}"
LOGFILE="${CXR_DOCKERD_LOG:-/tmp/cxr-dockerd.log}"

start() {
  if docker info >/dev/null 2>&1; then
    echo "dockerd: running"
    return 0
  fi
  command -v dockerd >/dev/null || { echo "dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
  nohup dockerd >"$LOGFILE" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      echo "dockerd: started $pid"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      echo "dockerd exited during start; last log lines:" >&2
      tail -20 "$LOGFILE" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s (log: $LOGFILE)" >&2
  exit 1
}

stop() {
  [[ -f "$PIDFILE" ]] || { echo "dockerd: not started by this script"; return 0; }
  local pid
  pid="$(cat "$PIDFILE")"
  # Only that very dockerd: a stale pid file must not stop whatever process reuses the number.
  if kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "dockerd" ]]; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$PIDFILE"
  echo "dockerd: stopped $pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
