#!/usr/bin/env bash
# `make check`: every configuration of the project's own tests, one after the other, then the
# hygiene of the whole run. Steps: the default build, its tests, ThreadSanitizer, ASan+UBSan,
# the Valgrind subset, the fuzz smoke, the installed package with the out-of-tree example, the
# formatting check, the hygiene self-test, hygiene. A failed step does not
# stop the others; the summary lists each step's wall time and result, and the exit status is
# non-zero when any step failed.
#
# The default build's CTest spends most of its wall time waiting (hangs, deadlines and
# watchdogs by design: about 60 s of CPU in 170 s on two cores), so the TSan and then the
# ASan+UBSan builds run meanwhile in the background at the lowest priority (nice 19, which
# leaves the tests the CPU they ask for), and go on through the TSan step's tests. Each
# sanitizer step first waits for its own build to end; its script then finds it done (or, if
# the background build failed, builds again in the open, errors and all).
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
prebuild_pid=

# kill_tree PID: PID and every descendant (the background build: nice, bash, cmake, ninja, the
# compilers).
kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null
}
trap '[ -n "$prebuild_pid" ] && kill_tree "$prebuild_pid"; wait 2>/dev/null; rm -rf "$run_tmp" "$snapshot"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# prebuild: the sanitizer builds, one after the other, each writing its exit status to
# $run_tmp/prebuilt-SANITIZER when it ends (its output to prebuild-SANITIZER.log).
prebuild() {
  local pair dir sanitizer
  for pair in "$TSAN_BUILD thread" "$ASAN_BUILD address"; do
    read -r dir sanitizer <<<"$pair"
    nice -n 19 bash -c 'source sanitizer_runs/lib.sh &&
      ipcv_configure "$1" "$2" && ipcv_build_for_ctest "$1" ipcverify' _ "$dir" "$sanitizer" \
      >"$run_tmp/prebuild-$sanitizer.log" 2>&1
    echo $? >"$run_tmp/prebuilt-$sanitizer"
  done
}

# await_prebuild SANITIZER: until the background build of SANITIZER has ended.
await_prebuild() {
  while [ ! -e "$run_tmp/prebuilt-$1" ] && kill -0 "$prebuild_pid" 2>/dev/null; do sleep 1; done
}

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

step build "$MAKE" --no-print-directory build BUILD="$BUILD" JOBS="$JOBS"
prebuild &
prebuild_pid=$!
step default "$MAKE" --no-print-directory check-fast BUILD="$BUILD" JOBS="$JOBS"
await_prebuild thread
step tsan sanitizer_runs/tsan.sh "$TSAN_BUILD"
await_prebuild address
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
echo "  (the tsan and asan+ubsan builds ran in the background from the default step on)"
echo "check: $passed passed, $failed failed"
[ $failed = 0 ]
