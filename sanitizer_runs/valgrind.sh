#!/usr/bin/env bash
# Valgrind configuration: Memcheck runs the default build's binaries in BUILD_DIR (default
# build/, nothing rebuilt); Helgrind and DRD run the thread-based tests of the shared-memory
# rings from a build with the happens-before annotations compiled in (HELGRIND_BUILD, default
# build-vg/, only the targets they run). Each tool first proves on a fixture that it fails a run
# here; then Memcheck covers a representative subset of the tests (slow: 20-50x).
#
#   [HELGRIND_BUILD=DIR] sanitizer_runs/valgrind.sh [BUILD_DIR]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ipcv_begin valgrind
B=${1:-build}
HERE="$IPCV_ROOT/sanitizer_runs"

# --trace-children=no: the tests fork without exec, and a forked child stays under Valgrind
# anyway; only an exec'd program would need it. --fullpath-after= prints whole source paths,
# so a report names fixtures/<file>.cpp and not just the file name.
COMMON=(--error-exitcode=99 --trace-children=no --fullpath-after= --num-callers=40
        --suppressions="$HERE/valgrind.supp")
MEMCHECK=(valgrind --tool=memcheck "${COMMON[@]}" --leak-check=full
          --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)
# --fair-sched=yes for the thread tools: Valgrind runs one thread at a time, and its default
# lock lets a spinning thread take it back at once. The register's readers poll in a loop, and
# once (a fresh clone's make check) DRD starved the writer for 11 minutes at 100% CPU; the fair
# (ticket) lock hands it round in turn, at about 1.5x the run time (DRD over ShmThreads: 15 s
# -> 23 s). VALGRIND_TIMEOUT (default 600 s) bounds each run all the same, so a stall fails the
# step in minutes, saying so, instead of holding CI to its limit.
HELGRIND=(valgrind --tool=helgrind --fair-sched=yes "${COMMON[@]}")
DRD=(valgrind --tool=drd --fair-sched=yes "${COMMON[@]}")
VALGRIND_TIMEOUT=${VALGRIND_TIMEOUT:-600}

# Memcheck subset: "binary|gtest filter|why". A binary missing from the build fails the step.
MEMCHECK_SUBSET=(
  "harness_tests|*ChannelConformance*_pipe:Arena.*:Reap.*:LiveChildren.*:Barrier.*|every conformance check of one kernel channel, and the arena, fork/reap and barrier helpers"
  "specs_tests|*|the pure checkers and their golden histories"
)

# Helgrind and DRD: thread-based runs of the shared-memory rings, "binary|gtest filter|why", run
# from a build with -DIPCV_VALGRIND=ON (the SYNC POINT annotations of impl/shm/ compiled in) in
# HELGRIND_BUILD. The polling tests take no futex wake-up, so their only happens-before edges
# are the rings' own (README.md, "Helgrind and lock-free code"). The Oracle* tests of the same
# suite are left out: they prove the oracle sees a faulty queue's loss or duplicate, which needs
# the queue to fill up, and under the fair scheduler the receivers keep up (a fresh clone's DRD
# run once saw no loss at all); they run in the default build and under both sanitizers.
HELGRIND_SUBSET=(
  "impl_tests|ShmThreads.*:-ShmThreads.Oracle*|the shm byte ring, queue and register on threads, blocking and polling"
)
# The default build carries the annotations (cmake/options.cmake), so it serves as is; a
# build configured without them gets an annotated twin in build-vg/.
if grep -q '^IPCV_VALGRIND:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null; then
  HELGRIND_BUILD=${HELGRIND_BUILD:-$B}
else
  HELGRIND_BUILD=${HELGRIND_BUILD:-build-vg}
fi

fail() { ipcv_log "FAILED: $*"; failed=1; }
failed=0

ipcv_timed build ipcv_build "$B" ipcv_tests memcheck_leak helgrind_counter || { ipcv_summary; exit 1; }

ipcv_log "self-test: Memcheck must report the leak in fixtures/memcheck_leak.cpp"
ipcv_timed self-test-memcheck "$HERE/expect_failure.sh" --fixture "$HERE/fixtures/memcheck_leak.cpp" \
  --kind 'definitely lost' --status 99 -- "${MEMCHECK[@]}" "$B/fixtures/memcheck_leak" || fail "memcheck self-test"
ipcv_log "self-test: Helgrind must report the race in fixtures/helgrind_counter.cpp"
ipcv_timed self-test-helgrind "$HERE/expect_failure.sh" --fixture "$HERE/fixtures/helgrind_counter.cpp" \
  --kind 'Possible data race' --status 99 -- "${HELGRIND[@]}" "$B/fixtures/helgrind_counter" || fail "helgrind self-test"

# helgrind_build TARGET...: the default configuration plus the Valgrind annotations, at -O1
# with line tables only (-g1): reports still name file:line, and the build, almost all of this
# part's time, needs about a quarter less CPU than at -O2 -g.
helgrind_build() {
  if [ "$HELGRIND_BUILD" = "$B" ]; then
    ipcv_build "$B" "$@"
    return
  fi
  cmake -G Ninja -S "$IPCV_ROOT" -B "$HELGRIND_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DIPCV_VALGRIND=ON >/dev/null &&
    ipcv_build "$HELGRIND_BUILD" "$@"
}

# run_subset DIR TOOL CMD ENTRY...: each test binary of the subset, from DIR, under the command
# in array CMD; JUnit XML in DIR/junit/.
run_subset() {
  local B=$1 tool=$2 entry bin filter why
  local -n cmd=$3
  shift 3
  for entry in "$@"; do
    IFS='|' read -r bin filter why <<<"$entry"
    if [ ! -x "$B/bin/$bin" ]; then
      fail "$tool $bin: $B/bin/$bin was not built"
      continue
    fi
    ipcv_log "$tool $bin --gtest_filter='$filter': $why"
    mkdir -p "$B/junit"
    ipcv_timed "$tool-$bin" timeout -k 10 "$VALGRIND_TIMEOUT" "${cmd[@]}" "$B/bin/$bin" \
      --gtest_filter="$filter" --gtest_output="xml:$B/junit/$tool-$bin.xml"
    case $? in
      0) ;;
      124 | 137) fail "$tool $bin: no end within ${VALGRIND_TIMEOUT} s (VALGRIND_TIMEOUT), stopped" ;;
      *) fail "$tool $bin" ;;
    esac
  done
}

run_subset "$B" memcheck MEMCHECK "${MEMCHECK_SUBSET[@]}"
if ipcv_timed helgrind-build helgrind_build missing_annotation \
     $(printf "%s\n" "${HELGRIND_SUBSET[@]}" | cut -d"|" -f1 | sort -u); then
  # The annotations silence only the handovers they name: one left out must still be reported.
  fixture=(--fixture "$HERE/fixtures/missing_annotation.cpp" --status 99)
  ipcv_log "self-test: Helgrind must report the unannotated handover in fixtures/missing_annotation.cpp"
  ipcv_timed self-test-helgrind-annotated "$HERE/expect_failure.sh" "${fixture[@]}" --kind 'Possible data race' \
    -- "${HELGRIND[@]}" "$HELGRIND_BUILD/fixtures/missing_annotation" || fail "helgrind annotated self-test"
  ipcv_log "self-test: DRD must report the unannotated handover in fixtures/missing_annotation.cpp"
  ipcv_timed self-test-drd-annotated "$HERE/expect_failure.sh" "${fixture[@]}" --kind 'Conflicting (load|store)' \
    -- "${DRD[@]}" "$HELGRIND_BUILD/fixtures/missing_annotation" || fail "drd annotated self-test"
  run_subset "$HELGRIND_BUILD" helgrind HELGRIND "${HELGRIND_SUBSET[@]}"
  run_subset "$HELGRIND_BUILD" drd DRD "${HELGRIND_SUBSET[@]}"
else
  fail "helgrind build"
fi

ipcv_summary
exit $failed
