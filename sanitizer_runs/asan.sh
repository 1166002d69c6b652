#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer configuration: builds the tests with clang
# -fsanitize=address,undefined -fno-sanitize-recover=all in BUILD_DIR (default build-asan/),
# proves on its fixtures that both sanitizers stop a run here, then runs the whole CTest suite,
# process mode included (ASan and UBSan work per process: every forked child is checked too).
#
#   sanitizer_runs/asan.sh [BUILD_DIR]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ipcv_begin asan
B=${1:-build-asan}

# detect_leaks: LeakSanitizer at exit of every process. halt_on_error + abort_on_error: the
# first report kills the process with SIGABRT, so a forked child's report fails its parent's
# check of the exit status instead of scrolling by.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:external_symbolizer_path=$IPCV_SYMBOLIZER"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:external_symbolizer_path=$IPCV_SYMBOLIZER"

# -O0: ASan with UBSan made -O1 the slowest build of make check (250 s on two cores, 458 s of
# CPU); at -O0 it takes 137 s (261 s of CPU), and the tests 117 s instead of 74 s. No report is
# lost: -O0 keeps every load and store that -O1 might fold away.
ipcv_timed configure ipcv_configure "$B" address -O0 || { ipcv_summary; exit 1; }
ipcv_timed build ipcv_build_for_ctest "$B" ipcverify || { ipcv_summary; exit 1; }

failed=0
ipcv_log "self-tests: ASan must report asan_oob.cpp, UBSan ubsan_overflow.cpp"
ipcv_timed self-test ipcv_ctest "$B" ctest-selftest -L sanitizer_selftest || failed=1

ipcv_log "the whole CTest suite under ASan+UBSan"
ipcv_timed ctest ipcv_ctest "$B" ctest -LE sanitizer_selftest -E "$IPCV_SANITIZER_SKIP" || failed=1

ipcv_summary
exit $failed
