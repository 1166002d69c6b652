#!/usr/bin/env bash
# ThreadSanitizer configuration: builds the tests with clang -fsanitize=thread in BUILD_DIR
# (default build-tsan/), proves on its fixture that TSan reports a race here, then runs the
# whole CTest suite under TSan. TSan sees races between threads of one process; it cannot see
# across processes (see README.md), which is what thread mode of the engine is for.
#
#   sanitizer_runs/tsan.sh [BUILD_DIR]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ipcv_begin tsan
B=${1:-build-tsan}

# halt_on_error: the first report ends the test binary with a failure, so it cannot scroll by.
# second_deadlock_stack: lock-order reports show where both locks were taken.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 external_symbolizer_path=$IPCV_SYMBOLIZER"

# Labels (one per test binary, see cmake/testing.cmake) excluded from the TSan run, each with
# the reason. Empty: every binary runs, fork-based tests included.
EXCLUDE_LABELS=()

ipcv_timed configure ipcv_configure "$B" thread || { ipcv_summary; exit 1; }
ipcv_timed build ipcv_build_for_ctest "$B" ipcverify || { ipcv_summary; exit 1; }

failed=0
ipcv_log "self-test: TSan must report the race in sanitizer_runs/fixtures/tsan_race.cpp"
ipcv_timed self-test ipcv_ctest "$B" ctest-selftest -L sanitizer_selftest || failed=1

ipcv_log "the whole CTest suite under TSan"
exclude=()
if [ ${#EXCLUDE_LABELS[@]} -gt 0 ]; then
  exclude=(-LE "$(IFS='|'; echo "${EXCLUDE_LABELS[*]}")")
fi
ipcv_timed ctest ipcv_ctest "$B" ctest -LE sanitizer_selftest "${exclude[@]}" \
  -E "$IPCV_SANITIZER_SKIP" || failed=1

# Thread mode of the engine: the reference channels on threads of one process, so TSan sees
# their synchronisation (it cannot in process mode).
ipcv_log "thread mode of the engine under TSan"
ipcv_timed thread-mode "$B/bin/ipcverify" run --mode thread --time-budget 45 || failed=1

ipcv_summary
exit $failed
