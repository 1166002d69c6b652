#!/usr/bin/env bash
# `make check`: every configuration of the project's own tests, one after the other, then the
# hygiene of the whole run. Steps: the default build's tests, ThreadSanitizer, ASan+UBSan,
# the Valgrind subset, the fuzz smoke, the installed package with the out-of-tree example, the
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
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

# Every process of this run carries the run id in its environment (forked children too), which
# is how the hygiene step tells this run's leftover processes from anyone else's; every temp
# file and socket of the run goes under its own TMPDIR.
export IPCV_RUN_ID="check-$$-$(date +%s%N)"
run_tmp=$(mktemp -d /tmp/ipcv-check.XXXXXX)
export TMPDIR=$run_tmp
snapshot=$(mktemp /tmp/ipcv-check-hygiene.XXXXXX)
trap 'rm -rf "$run_tmp" "$snapshot"' EXIT

results=()
failed=0 passed=0
run_start=$(date +%s)

# step NAME COMMAND...: runs one step with a banner and records its wall time and result.
step() {
  local name=$1 start status
  shift
  printf '\n==== check: %s ====\n' "$name"
  start=$(date +%s)
  "$@"
  status=$?
  results+=("$(printf '%-16s %5ss  %s' "$name" "$(($(date +%s) - start))" \
    "$([ $status = 0 ] && echo ok || echo "FAILED ($status)")")")
  if [ $status = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  return 0
}

ci/hygiene.sh snapshot "$snapshot" || exit 2

step default "$MAKE" --no-print-directory check-fast BUILD="$BUILD" JOBS="$JOBS"
step tsan sanitizer_runs/tsan.sh "$TSAN_BUILD"
step asan+ubsan sanitizer_runs/asan.sh "$ASAN_BUILD"
step valgrind sanitizer_runs/valgrind.sh "$BUILD"
step fuzz-smoke ci/fuzz_smoke.sh "$FUZZ_BUILD" "$FUZZ_SECONDS"
step package ci/package_check.sh "$BUILD" "$TSAN_BUILD"
step format ci/format.sh
step hygiene-self ci/hygiene_selftest.sh
step hygiene ci/hygiene.sh compare "$snapshot"

printf '\n==== check: summary (wall time per step) ====\n'
printf '  %s\n' "${results[@]}"
printf '  %-16s %5ss\n' total "$(($(date +%s) - run_start))"
echo "check: $passed passed, $failed failed"
[ $failed = 0 ]
