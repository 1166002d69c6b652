#!/usr/bin/env bash
# Fuzz smoke of `make check`: a short libFuzzer run of the shared-memory ring's fuzz targets
# through their own script, impl/shm/fuzz/run.sh BUILD_DIR SECONDS. Skipped, with the reason
# printed, while that script does not exist.
#
#   ci/fuzz_smoke.sh [BUILD_DIR] [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
dir=${1:-build-fuzz}
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac # run.sh changes directory before it runs the fuzzer
seconds=${2:-60}
if [ ! -f impl/shm/fuzz/run.sh ]; then
  echo "fuzz smoke: skipped: impl/shm/fuzz/run.sh does not exist yet"
  exit 0
fi
exec bash impl/shm/fuzz/run.sh "$dir" "$seconds"
