#!/usr/bin/env bash
# `make check`: every configuration of the project's own tests, one after the other, then the
# hygiene of the whole run. Steps: the default build's tests, ThreadSanitizer, ASan+UBSan,
# the Valgrind subset with the fuzz smoke beside it, the installed package with the out-of-tree example, the
# formatting check, the hygiene self-test, hygiene. A failed step does not
# stop the others; the summary lists each step's wall time and result, and the exit status is
# non-zero when any step failed.
#
#   BUILD=build JOBS=2 ci/check.sh      (called by `make check` after `make deps`)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
export JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MAKE=${MAKE:-make}
TSAN_BUILD=${TSAN_BUILD:-build-tsan}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
# 45 s of fuzzing plus the build of the fuzz target take about as long as the Valgrind step
# beside it; impl/shm/fuzz/run.sh BUILD_DIR SECONDS fuzzes for as long as asked.
FUZZ_SECONDS=${FUZZ_SECONDS:-45}

# Every process of this run carries the run id in its environment (forked children too), which
# is how the hygiene step tells this run's leftover processes from anyone else's; every temp
# file and socket of the run goes under its own TMPDIR.
export IPCV_RUN_ID="check-$$-$(date +%s%N)"
run_tmp=$(mktemp -d /tmp/ipcv-check.XXXXXX)
export TMPDIR=$run_tmp
snapshot=$(mktemp /tmp/ipcv-check-hygiene.XXXXXX)

results=()
failed=0 passed=0
run_start=$(date +%s)

# record NAME SECONDS STATUS: one line of the summary.
record() {
  results+=("$(printf '%-16s %5ss  %s' "$1" "$2" "$([ "$3" = 0 ] && echo ok || echo "FAILED ($3)")")")
  if [ "$3" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# step NAME COMMAND...: runs one step with a banner and records its wall time and result.
step() {
  local name=$1 start status
  shift
  printf '\n==== check: %s ====\n' "$name"
  start=$(date +%s)
  "$@"
  status=$?
  record "$name" "$(($(date +%s) - start))" $status
  return 0
}

# beside NAME COMMAND...: starts a step that runs beside the next one, its output held in a file
# until joined (join_beside prints it under its own banner). Only for two steps that use one
# core each on this two-core machine: Valgrind runs one process at a time on one core, and
# libFuzzer fuzzes on one thread. Side by side they take the time of the longer one.
bg_pid='' bg_name='' bg_out=''
beside() {
  bg_name=$1 bg_out=$run_tmp/beside.out
  shift
  printf '\n==== check: %s (started beside the next step; its output follows it) ====\n' "$bg_name"
  (
    start=$(date +%s)
    "$@" >"$bg_out" 2>&1
    echo "$? $(($(date +%s) - start))" >"$bg_out.status"
  ) &
  bg_pid=$!
}
join_beside() {
  local status secs
  wait "$bg_pid"
  bg_pid=''
  printf '\n==== check: %s (ran beside the step before) ====\n' "$bg_name"
  cat "$bg_out"
  read -r status secs <"$bg_out.status" || { status=2 secs=0; }
  record "$bg_name" "$secs" "$status"
}
# An interrupted run takes the step beside with it (its command first, then the subshell).
cleanup() {
  if [ -n "$bg_pid" ]; then
    pkill -P "$bg_pid" 2>/dev/null
    kill "$bg_pid" 2>/dev/null
  fi
  rm -rf "$run_tmp" "$snapshot"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ci/hygiene.sh snapshot "$snapshot" || exit 2

step default "$MAKE" --no-print-directory check-fast BUILD="$BUILD" JOBS="$JOBS"
step tsan sanitizer_runs/tsan.sh "$TSAN_BUILD"
step asan+ubsan sanitizer_runs/asan.sh "$ASAN_BUILD"
beside fuzz-smoke ci/fuzz_smoke.sh "$FUZZ_BUILD" "$FUZZ_SECONDS"
step valgrind sanitizer_runs/valgrind.sh "$BUILD"
join_beside
step package ci/package_check.sh "$BUILD" "$TSAN_BUILD"
step format ci/format.sh
step hygiene-self ci/hygiene_selftest.sh
step hygiene ci/hygiene.sh compare "$snapshot"

printf '\n==== check: summary (wall time per step) ====\n'
printf '  %s\n' "${results[@]}"
printf '  %-16s %5ss\n' total "$(($(date +%s) - run_start))"
echo "check: $passed passed, $failed failed"
[ $failed = 0 ]
