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

# -O1: at -O0 the build takes 91 s instead of 148 s, but thread mode judged 2 cases per channel
# where -O1 judged 4 to 46 in the same 20 s, and races are found by running cases.
ipcv_timed configure ipcv_configure "$B" thread -O1 || { ipcv_summary; exit 1; }
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

# The in-tree adapters in thread mode, race-free only: their own code (and a header-only
# library's, Boost's) is instrumented and judged; a report that runs through a library not built
# with TSan (libzmq) is attributed to that library and the case not judged (harness/races.hpp),
# which the run prints under "not judged in some cases". Their other specs are the default
# build's business: TSan's slowdown moves a library's timing (deadlines) far from a user's.
adapter_threads() {
  local plugins records own all ch args=()
  plugins=$(cat "$B/adapters/plugins.txt" 2>/dev/null)
  records=$(cat "$B/adapters/expected.txt" 2>/dev/null)
  [ -n "$plugins" ] || { ipcv_log "no in-tree adapter was built"; return 0; }
  own=$("$B/bin/ipcverify" list | awk '/^[^ ]/ {print $1}')
  all=$(IPCV_PLUGINS=$plugins "$B/bin/ipcverify" list | awk '/^[^ ]/ {print $1}')
  for ch in $all; do
    grep -qx -- "$ch" <<<"$own" || args+=(--channel "$ch")
  done
  IPCV_PLUGINS=$plugins IPCV_EXPECTED=$records "$B/bin/ipcverify" run --mode thread \
    --spec race-free --time-budget 40 "${args[@]}"
}
ipcv_log "the in-tree adapters in thread mode under TSan (race-free)"
ipcv_timed adapters-thread-mode adapter_threads || failed=1

ipcv_summary
exit $failed
