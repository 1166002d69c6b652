#!/usr/bin/env bash
# The path a user walks, in `make check`: install the package into a scratch prefix, build the
# out-of-tree example against it (a copy of examples/out-of-tree-adapter/ outside this tree,
# found only through CMAKE_PREFIX_PATH), list its channel through --plugin, run its CTest tests
# (conformance, then a short campaign) and check that they pass and left JUnit XML. Then the
# same example with a false claim must make its campaign test fail, so a user's CI can fail.
# When a ThreadSanitizer build exists (build-tsan/, from the tsan step), it is installed too as
# ipcverify-tsan and the example is built for it (SANITIZER thread) and run in thread mode.
#
#   ci/package_check.sh [BUILD] [TSAN_BUILD]       (BUILD: an existing configured build dir)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-build}
TSAN_BUILD=${2:-build-tsan}
JOBS=${JOBS:-2}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ipcv-package.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix
failed=0

say() { printf '[package] %s\n' "$*"; }
fail() {
  say "FAILED: $*"
  failed=1
}
# expect STATUS COMMAND...: runs COMMAND, output to its log, and checks its exit status.
expect() {
  local want=$1 log=$scratch/log.$RANDOM status
  shift
  "$@" >"$log" 2>&1
  status=$?
  if [ "$status" != "$want" ]; then
    tail -n 30 "$log"
    fail "exit status $status, expected $want: $*"
    return 1
  fi
  return 0
}
# example DIR CMAKE_ARGS...: configures and builds a copy of the example in DIR.
example() {
  local dir=$1
  shift
  expect 0 cmake -G Ninja -S "$scratch/example" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" "$@" &&
    expect 0 cmake --build "$dir" -j "$JOBS"
}

[ -f "$BUILD/build.ninja" ] || cmake -G Ninja -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
expect 0 cmake --build "$BUILD" -j "$JOBS" --target ipcverify ipcbench || exit 1
expect 0 cmake --install "$BUILD" --prefix "$prefix" || exit 1
for f in bin/ipcverify bin/ipcbench include/ipcverify/channel.hpp include/ipcverify/plugin.hpp \
  lib/cmake/ipcverify/ipcverifyConfig.cmake lib/cmake/ipcverify/ipcverifyConfigVersion.cmake \
  lib/cmake/ipcverify/ipcverify_plugin.cmake; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
say "installed into a scratch prefix: $(cd "$prefix" && find . -type f | wc -l) files"

# Outside the source tree: nothing in the example's build may name it.
cp -r examples/out-of-tree-adapter "$scratch/example"
if example "$scratch/ok"; then
  if grep -rqs "$PWD" "$scratch/ok/CMakeCache.txt" "$scratch/ok/build.ninja"; then
    fail "the example's build names the source tree $PWD"
  fi
  plugin=$scratch/ok/libexample_channels.so
  expect 0 "$prefix/bin/ipcverify" list --plugin "$plugin" &&
    { "$prefix/bin/ipcverify" list --plugin "$plugin" | grep -q '^dgram' || fail "list does not show dgram"; }
  expect 0 ctest --test-dir "$scratch/ok" --output-on-failure
  for x in example.verify.xml example.run.xml; do
    grep -qs '<testsuites' "$scratch/ok/junit/$x" || fail "no JUnit XML $x"
  done
  [ $failed = 0 ] && say "example: list, verify and run pass; JUnit XML written"
fi

# A false claim fails the user's CI: the campaign test of the example built with one.
if example "$scratch/wrong" -DEXAMPLE_CLAIM_CRASH_SAFETY_WRONG=ON -DEXAMPLE_CASES=400 -DEXAMPLE_BUDGET=20; then
  if expect 8 ctest --test-dir "$scratch/wrong" -R 'example\.run'; then
    grep -qs '<failure' "$scratch/wrong/junit/example.run.xml" || fail "no failure in the false claim's JUnit XML"
    say "false claim: example.run fails, as it must"
  fi
fi

if [ -f "$TSAN_BUILD/build.ninja" ]; then
  expect 0 cmake --build "$TSAN_BUILD" -j "$JOBS" --target ipcverify &&
    expect 0 cmake --install "$TSAN_BUILD" --prefix "$prefix" &&
    example "$scratch/tsan" -DCMAKE_CXX_COMPILER=clang++ -DEXAMPLE_SANITIZER=thread &&
    TSAN_OPTIONS="halt_on_error=1 external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer" \
      expect 0 "$prefix/bin/ipcverify-tsan" run --mode thread --plugin "$scratch/tsan/libexample_channels.so" \
      --channel dgram --cases 50 --time-budget 30 &&
    say "tsan: the example built for ipcverify-tsan runs in thread mode"
else
  say "no $TSAN_BUILD: the ThreadSanitizer package is not checked"
fi
exit $failed
