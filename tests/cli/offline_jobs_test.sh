#!/usr/bin/env bash
# scripts/offline_jobs.sh and the preflight of scripts/eval_benchmarks.sh, on this machine:
# a job outlives the command that started it and runs with the bundle's environment; a
# later command reads how it ended from its files; a failed job's log is shown; a running
# name is refused; an evaluation whose binary cannot run fails at once, by name.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jobs=$root/scripts/offline_jobs.sh
work=$(mktemp -d)
export SPECFUSE_CACHE=$work/cache
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Started from a shell that then exits; the job sees the sysroot's library path.
(cd "$work" && "$jobs" start env-job bash -c 'sleep 1; printf "%s\n" "$LD_LIBRARY_PATH" >seen.txt') >/dev/null
out=$("$jobs" wait env-job) && rc=0 || rc=$?
[ $rc = 3 ] && [ "$out" = "env-job: running" ] || fail "a running job: rc $rc, '$out'"
out=$("$jobs" start env-job true 2>&1) && rc=0 || rc=$?
[ $rc = 2 ] && grep -q "job env-job is still running" <<<"$out" || fail "a second start of a running job: rc $rc, '$out'"
out=$("$jobs" wait --for 30 env-job) || fail "waiting for a job that succeeds: '$out'"
[ "$out" = "env-job: done" ] || fail "wait: '$out'"
grep -q "^$SPECFUSE_CACHE/sysroot/usr/lib/x86_64-linux-gnu" "$work/seen.txt" || fail "the job's LD_LIBRARY_PATH: $(cat "$work/seen.txt")"

# A job that fails: its exit status and the end of its log; with a running one beside it,
# the failure decides the status.
"$jobs" start bad bash -c 'echo "no such model: x.gguf" >&2; exit 7' >/dev/null
"$jobs" start slow sleep 20 >/dev/null
sleep 1
out=$("$jobs" wait slow bad) && rc=0 || rc=$?
[ $rc = 1 ] || fail "a failed job beside a running one: rc $rc"
grep -qx "slow: running" <<<"$out" || fail "slow: '$out'"
grep -qx "bad: failed (exit status 7); the end of $SPECFUSE_CACHE/jobs/bad.log:" <<<"$out" || fail "bad: '$out'"
grep -qx "    no such model: x.gguf" <<<"$out" || fail "bad's log: '$out'"
kill "$(cat "$SPECFUSE_CACHE/jobs/slow.pid")"
out=$("$jobs" wait --for 10 slow) && rc=0 || rc=$?
[ $rc = 1 ] && grep -q "^slow: " <<<"$out" || fail "a killed job: rc $rc, '$out'"
out=$("$jobs" wait nosuch) && rc=0 || rc=$?
[ $rc = 1 ] && [ "$out" = "nosuch: no such job" ] || fail "an unknown job: rc $rc, '$out'"

# An evaluation binary that cannot run fails before the first plan line.
printf '#!/bin/sh\necho "specfuse: error while loading shared libraries: libtomlplusplus.so.3" >&2\nexit 127\n' >"$work/specfuse"
chmod +x "$work/specfuse"
printf 'one-line  pair  gsm8k.dev.jsonl  1  specfuse\n' >"$work/plan.txt"
out=$(SPECFUSE_BIN=$work/specfuse BENCHMARKS=$work OUT_DIR=$work/out "$root/scripts/eval_benchmarks.sh" "$work/plan.txt" 2>&1) && rc=0 || rc=$?
[ $rc = 1 ] || fail "eval_benchmarks with a broken binary: rc $rc"
grep -q "does not run" <<<"$out" && grep -q "libtomlplusplus.so.3" <<<"$out" || fail "preflight message: '$out'"
[ ! -e "$work/out/one-line.log" ] || fail "a plan line ran with a broken binary"
echo "offline_jobs_test: ok"
