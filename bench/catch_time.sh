#!/usr/bin/env bash
# Time from start to a caught, shrunk failure, per faulty fixture, and how well its
# counterexample replays: runs `ipcverify run` with its defaults on each fixture with seeds
# 1..N, requires exit status 1 (the claim caught) every time, replays the printed command once
# per seed (10 attempts each) and prints, per fixture, the median time to catch, how many of the
# replays reproduced, and the share of attempts that failed again. A benchmark, not a test.
#
#   bench/catch_time.sh [BUILD_DIR] [SEEDS] [MODE]      (defaults: build 5 process)
#   ONLY="faulty-drop faulty-dup" bench/catch_time.sh   (those fixtures only)
#
# faulty-relaxed-publish is caught only by a ThreadSanitizer build in thread mode
# (bench/catch_time.sh build-tsan 9 thread); crash and long-case fixtures need process mode.
set -uo pipefail
B=${1:-build}
N=${2:-5}
MODE=${3:-process}
IPCV="$B/bin/ipcverify"
[ -x "$IPCV" ] || { echo "catch_time: $IPCV not built (run make first)" >&2; exit 2; }
tsan=0
grep -q '^IPCV_SANITIZER:STRING=thread' "$B/CMakeCache.txt" 2>/dev/null && tsan=1

# fixture, the spec it must break, and where it can be caught
FIXTURES=(
  "faulty-drop no-loss any"
  "faulty-reorder fifo any"
  "faulty-dup no-duplication any"
  "faulty-corrupt integrity any"
  "faulty-lost-wakeup bounded-wait any"
  "faulty-close-race end-of-stream process"
  "faulty-late-timeout deadline any"
  "faulty-deaf crash-safety process"
  "faulty-wrap no-loss process"
  "faulty-torn-register register any"
  "faulty-relaxed-publish race-free tsan-thread"
)

# ONLY="faulty-drop faulty-close-race" measures those fixtures alone.
if [ -n "${ONLY:-}" ]; then
  kept=()
  for entry in "${FIXTURES[@]}"; do
    for f in $ONLY; do [ "${entry%% *}" = "$f" ] && kept+=("$entry"); done
  done
  FIXTURES=("${kept[@]}")
fi

status=0
printf "%-24s %-15s %-8s %-12s %-9s %s\n" fixture spec median replayed attempts "runs (s)"
for entry in "${FIXTURES[@]}"; do
  read -r fixture spec where <<<"$entry"
  case "$where" in
    process) [ "$MODE" = process ] || { printf "%-24s %-15s needs process mode\n" "$fixture" "$spec"; continue; } ;;
    tsan-thread) [ "$MODE" = thread ] && [ $tsan = 1 ] ||
      { printf "%-24s %-15s needs a TSan build in thread mode\n" "$fixture" "$spec"; continue; } ;;
  esac
  times=() replayed=0 failed_attempts=0 attempts=0
  for seed in $(seq 1 "$N"); do
    start=$(date +%s.%N)
    out=$("$IPCV" run --include-faulty --channel "$fixture" --spec "$spec" --mode "$MODE" \
      --seed "$seed" 2>/dev/null)
    rc=$?
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" -ne 1 ]; then
      echo "catch_time: $fixture seed $seed: exit $rc, want 1 (not caught)" >&2
      status=1
      times+=("miss")
      continue
    fi
    times+=("$t")
    replay=$(sed -n 's/^replay: ipcverify //p' <<<"$out" | head -1)
    [ -n "$replay" ] || continue
    result=$(eval "\"$IPCV\" $replay" 2>/dev/null | sed -n 's/^reproduced \([0-9]*\) of \([0-9]*\)$/\1 \2/p')
    read -r k n <<<"${result:-0 0}"
    [ "$k" -gt 0 ] && replayed=$((replayed + 1))
    failed_attempts=$((failed_attempts + k))
    attempts=$((attempts + n))
  done
  median=$(printf "%s\n" "${times[@]}" | grep -v miss | sort -n |
    awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}')
  printf "%-24s %-15s %-8s %-12s %-9s %s\n" "$fixture" "$spec" "$median" "$replayed of $N" \
    "$failed_attempts/$attempts" "${times[*]}"
done
exit $status
