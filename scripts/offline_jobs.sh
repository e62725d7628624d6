#!/usr/bin/env bash
# Long jobs on a machine reached one command at a time (the offline GPU machine of
# scripts/offline_bundle.sh): a job started by one command runs on after that command
# returns, with the environment that builds and runs against the bundle's sysroot, and a
# later command asks whether it finished and how. Every job's state is in files, never in
# a process listing, so a command that names a job cannot mistake itself for it.
#
#   scripts/offline_jobs.sh start NAME CMD [ARG...]   runs CMD in a new session, from the
#       current directory, with `offline_bundle.sh env` applied; its output goes to
#       $CACHE/jobs/NAME.log and its exit status, when it ends, to NAME.rc. Refuses a NAME
#       that is still running.
#   scripts/offline_jobs.sh wait [--for SECONDS] NAME...   waits until every named job has
#       ended, or SECONDS have passed (default 0: check once); prints one line per job
#       (running, or its exit status) and the last lines of the log of each that failed.
#       Exit status: 0 every job ended with 0; 1 one failed; 3 one is still running.
#   scripts/offline_jobs.sh log NAME [LINES]   the last LINES (default 20) of a job's log.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SPECFUSE_CACHE:-$HOME/.cache/specfuse}
JOBS=$CACHE/jobs

die() { printf 'offline_jobs: error: %s\n' "$*" >&2; exit 2; }

valid_name() { [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] || die "job name '$1': use letters, digits, '.', '_', '-'"; }

running() { [ -f "$JOBS/$1.pid" ] && [ ! -f "$JOBS/$1.rc" ] && kill -0 "$(cat "$JOBS/$1.pid")" 2>/dev/null; }

start() {
  local name=$1; shift
  valid_name "$name"
  [ $# -gt 0 ] || die "start $name: name the command to run"
  mkdir -p "$JOBS"
  running "$name" && die "job $name is still running (pid $(cat "$JOBS/$name.pid"))"
  rm -f "$JOBS/$name.rc" "$JOBS/$name.pid"
  eval "$("$ROOT/scripts/offline_bundle.sh" env)"
  # The job's shell writes its own pid, runs the command, and records how it ended; setsid
  # puts it in a session of its own, so it outlives the command that started it.
  setsid bash -c 'echo $$ >"$0.pid"; "$@"; echo $? >"$0.rc.tmp"; mv "$0.rc.tmp" "$0.rc"' \
    "$JOBS/$name" "$@" >"$JOBS/$name.log" 2>&1 </dev/null &
  local i
  for i in $(seq 50); do [ -f "$JOBS/$name.pid" ] && break; sleep 0.1; done
  [ -f "$JOBS/$name.pid" ] || die "job $name did not start (log: $JOBS/$name.log)"
  echo "$name: started (pid $(cat "$JOBS/$name.pid"), log $JOBS/$name.log)"
}

# One line for a job; returns 0 ended with 0, 1 failed or lost, 3 running.
report() {
  local name=$1
  if [ -f "$JOBS/$name.rc" ]; then
    local rc
    rc=$(cat "$JOBS/$name.rc")
    if [ "$rc" = 0 ]; then echo "$name: done"; return 0; fi
    echo "$name: failed (exit status $rc); the end of $JOBS/$name.log:"
    tail -n 15 "$JOBS/$name.log" | sed 's/^/    /'
    return 1
  fi
  [ -f "$JOBS/$name.pid" ] || { echo "$name: no such job"; return 1; }
  if running "$name"; then echo "$name: running"; return 3; fi
  echo "$name: ended without an exit status (killed?); the end of $JOBS/$name.log:"
  tail -n 15 "$JOBS/$name.log" | sed 's/^/    /'
  return 1
}

wait_for() {
  local secs=0
  if [ "${1:-}" = --for ]; then secs=${2:?--for SECONDS}; shift 2; fi
  [ $# -gt 0 ] || die "wait: name at least one job"
  local name
  for name in "$@"; do valid_name "$name"; done
  local deadline=$((SECONDS + secs))
  while :; do
    local busy=0
    for name in "$@"; do running "$name" && busy=1; done
    [ $busy = 0 ] || [ $SECONDS -ge $deadline ] && break
    sleep 1
  done
  local worst=0 rc
  for name in "$@"; do
    rc=0
    report "$name" || rc=$?
    if [ $rc = 1 ] || { [ $rc = 3 ] && [ $worst = 0 ]; }; then worst=$rc; fi
  done
  return $worst
}

cmd=${1:-}
shift || true
case "$cmd" in
  start) [ $# -ge 1 ] || die "start NAME CMD [ARG...]"; start "$@" ;;
  wait) wait_for "$@" ;;
  log) [ $# -ge 1 ] || die "log NAME [LINES]"; valid_name "$1"; tail -n "${2:-20}" "$JOBS/$1.log" ;;
  *) sed -n '2,18p' "$0"; [ -z "$cmd" ] || exit 2 ;;
esac
