# Shared by the sanitizer run scripts (sourced, not run): where things are, how a build
# directory is configured and built, how CTest is run, and how long each part took.

IPCV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# The sanitizer runtimes print file:line only through llvm-symbolizer (package llvm-14); without
# it every report is bare addresses and the self-tests fail, which is the intended outcome.
IPCV_SYMBOLIZER=/usr/lib/llvm-14/bin/llvm-symbolizer

ipcv_log() { printf '[%s] %s\n' "$IPCV_CONFIG" "$*"; }

# ipcv_timed LABEL COMMAND...: runs COMMAND and appends "LABEL SECONDS STATUS" to the timing
# file of this configuration (printed by ipcv_summary).
ipcv_timed() {
  local label=$1 start status
  shift
  start=$(date +%s)
  "$@"
  status=$?
  echo "$label $(($(date +%s) - start)) $status" >>"$IPCV_TIMES"
  return $status
}

ipcv_summary() {
  ipcv_log "wall time per part (seconds, exit status):"
  while read -r label secs status; do
    printf '[%s]   %-28s %5ss  %s\n' "$IPCV_CONFIG" "$label" "$secs" "$([ "$status" = 0 ] && echo ok || echo "FAILED ($status)")"
  done <"$IPCV_TIMES"
}

# ipcv_configure DIR SANITIZER OPT: a clang build of the same CMake targets with IPCV_SANITIZER
# set, at optimisation level OPT (-O1 or -O0), with line tables only: reports still name
# file:line (all the self-tests need), and the build, which dominates make check on two cores,
# takes far less time than -O2 -g. Configures again only when the directory is new or was
# configured differently.
ipcv_configure() {
  local dir=$1 sanitizer=$2 flags="$3 -gline-tables-only"
  if [ -f "$dir/build.ninja" ] &&
     grep -qx "IPCV_SANITIZER:STRING=$sanitizer" "$dir/CMakeCache.txt" &&
     grep -qx "CMAKE_CXX_FLAGS_RELWITHDEBINFO:STRING=$flags" "$dir/CMakeCache.txt" &&
     grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' "$dir/CMakeCache.txt"; then
    return 0
  fi
  CC=clang CXX=clang++ cmake -G Ninja -S "$IPCV_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DIPCV_SANITIZER="$sanitizer"
}

# ipcv_build DIR TARGET...: builds only what the configuration runs.
ipcv_build() {
  local dir=$1
  shift
  cmake --build "$dir" -j "$JOBS" --target "$@"
}

# ipcv_build_for_ctest DIR [TARGET]...: builds what the CTest suite of DIR runs and nothing
# else (no benchmarks): the test binaries (target ipcv_tests), then every other executable a
# CTest command names that is still missing (a test added with add_test outside
# ipcv_add_tests, such as the ipcbench smoke), plus the extra TARGETs.
ipcv_build_for_ctest() {
  local dir=$1 abs missing
  shift
  ipcv_build "$dir" ipcv_tests "$@" || return 1
  abs=$(cd "$dir" && pwd)
  missing=$(find "$dir" -name CTestTestfile.cmake -exec sed -n 's/^add_test(\[=\[.*\]=\] "\([^"]*\)".*/\1/p' {} + |
    sort -u | while read -r exe; do
      case "$exe" in "$abs"/*) [ -e "$exe" ] || basename "$exe" ;; esac
    done)
  [ -z "$missing" ] || ipcv_build "$dir" $missing
}

# ipcv_ctest DIR NAME [CTEST ARGS]...: the CTest suite of DIR (or what ARGS select), JUnit XML
# in DIR/junit/NAME.xml.
ipcv_ctest() {
  local dir=$1 name=$2
  shift 2
  mkdir -p "$dir/junit"
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 600 \
    --output-junit "$(cd "$dir" && pwd)/junit/$name.xml" "$@"
}

# Tests left out of the sanitizer configurations (a ctest -E regex), with the reason: the
# faulty fixtures' engine tests measure how fast the engine finds each planted bug, which is
# the default build's business; the code they exercise runs here too (ReferenceChannels.*, the
# CLI tests), and the races they plant are sized to uninstrumented processes (a process's exit
# inside a 2 ms window), which a sanitizer's slower exit does not fit.
#
# Also left out: the tests of how a crash of channel or plugin code is told (a SIGSEGV named as
# such). A sanitizer runtime handles SIGSEGV itself (its report, then exit 66), so there the
# crash is told by the sanitizer instead (and what the guard abandons of a crashed call, by
# design, is a leak to LeakSanitizer); the guard and loader code those tests drive runs here in
# the tests that do not crash (Misbehaving.*, Plugin*). And the end-to-end runs of every
# misbehaving plugin channel through the command line (EachMisbehaviour/): each waits out a
# hang or a deadline by design, minutes in all, for process handling the in-process
# Misbehaving.* tests already drive here.
#
# And the in-tree adapters' tests (adapter.*): they judge a third-party library in the default
# build, where its timing is a user's; a sanitizer's slowdown moves it (deadlines, lingers) and
# an uninstrumented library's own synchronisation is invisible to TSan. What TSan can say about
# an adapter, tsan.sh asks itself: race-free over the adapters' channels in thread mode, with
# reports through an uninstrumented library attributed to it (harness/races.hpp).
IPCV_SANITIZER_SKIP='^Engine/FaultyFixture\.|^Misbehaving\.(AnActorThatCrashes|AThreadHostThatCrashes|ACrashInDestroy)|^Plugin/PluginRefused\..*/Crashes|^EachMisbehaviour/|^adapter\.'

# ipcv_begin CONFIG: names the configuration in every line and starts its timing file.
ipcv_begin() {
  IPCV_CONFIG=$1
  IPCV_TIMES=$(mktemp "${TMPDIR:-/tmp}/ipcv-times.XXXXXX")
  trap 'rm -f "$IPCV_TIMES"' EXIT
  cd "$IPCV_ROOT" || exit 2
}
