#!/usr/bin/env bash
# Time from start to a caught, shrunk failure, per faulty fixture: runs `ipcverify run` on each
# fixture with seeds 1..N, requires exit status 1 (the claim caught) every time, and prints the
# wall time of each run and the median per fixture. A benchmark, not a test: `make catch-time`.
#
#   bench/catch_time.sh [BUILD_DIR] [SEEDS] [MODE]      (defaults: build 5 process)
set -uo pipefail
B=${1:-build}
N=${2:-5}
MODE=${3:-process}
IPCV="$B/bin/ipcverify"
[ -x "$IPCV" ] || { echo "catch_time: $IPCV not built (run make first)" >&2; exit 2; }

# fixture and the spec it must break
FIXTURES=(
  "faulty-drop no-loss"
  "faulty-reorder fifo"
  "faulty-dup no-duplication"
  "faulty-corrupt integrity"
  "faulty-lost-wakeup bounded-wait"
)

status=0
printf "%-20s %-15s %-7s %s\n" fixture spec median "runs (s)"
for entry in "${FIXTURES[@]}"; do
  read -r fixture spec <<<"$entry"
  times=()
  for seed in $(seq 1 "$N"); do
    start=$(date +%s.%N)
    "$IPCV" run --include-faulty --channel "$fixture" --spec "$spec" --mode "$MODE" \
      --seed "$seed" --time-budget 120 >/dev/null 2>&1
    rc=$?
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" -ne 1 ]; then
      echo "catch_time: $fixture seed $seed: exit $rc, want 1 (not caught)" >&2
      status=1
      t="miss"
    fi
    times+=("$t")
  done
  median=$(printf "%s\n" "${times[@]}" | grep -v miss | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}')
  printf "%-20s %-15s %-7s %s\n" "$fixture" "$spec" "$median" "${times[*]}"
done
exit $status
