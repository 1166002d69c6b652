#!/usr/bin/env bash
# Fuzz smoke of `make check`: a short libFuzzer run of the shared-memory ring's fuzz targets
# through their own script, impl/shm/fuzz/run.sh BUILD_DIR SECONDS.
#
#   ci/fuzz_smoke.sh [BUILD_DIR] [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
dir=${1:-build-fuzz}
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac # run.sh changes directory before it runs the fuzzer
seconds=${2:-60}
exec bash impl/shm/fuzz/run.sh "$dir" "$seconds"
