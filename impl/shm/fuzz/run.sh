#!/usr/bin/env bash
# Builds shm_ring_fuzz in a clang build directory (configured here if needed) and fuzzes the
# shm channels for SECONDS; exits non-zero on any finding (crash, OOB, UB, hang, leak).
# Usage: impl/shm/fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -G Ninja -S "$src" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
if ! grep -q '^CMAKE_CXX_COMPILER_ID:.*Clang\|CMAKE_CXX_COMPILER:.*clang' "$build/CMakeCache.txt"; then
  echo "run.sh: $build is not a clang build directory" >&2
  exit 2
fi
ninja -C "$build" shm_ring_fuzz

# New inputs go to a working corpus in the build directory; the seeds in the tree stay tiny.
work="$build/shm_fuzz/corpus"
mkdir -p "$work"
cd "$build/shm_fuzz"
exec "$build/bin/shm_ring_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build/shm_fuzz/" "$work" "$here/corpus"
