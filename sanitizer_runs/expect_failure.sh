#!/usr/bin/env bash
# Self-test of one checking configuration: runs COMMAND on a fixture and passes only when the
# run FAILS, its report is of the expected kind, and the report names the fixture's faulty line
# (the one line of the source that carries the marker comment EXPECT-REPORT). A configuration
# whose self-test passes has shown, on this machine, that it can catch the bug it is there for.
#
#   expect_failure.sh --fixture SRC --kind REGEX [--status N] -- COMMAND [ARG]...
#
# --status N also requires that exact exit status (Valgrind's --error-exitcode), otherwise any
# non-zero status or death by a signal is a failure of the run.
set -uo pipefail

fixture="" kind="" want_status=""
while [ $# -gt 0 ]; do
  case "$1" in
    --fixture) fixture="$2"; shift 2 ;;
    --kind) kind="$2"; shift 2 ;;
    --status) want_status="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "expect_failure: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$fixture" ] || [ -z "$kind" ] || [ $# -eq 0 ]; then
  echo "usage: expect_failure.sh --fixture SRC --kind REGEX [--status N] -- COMMAND..." >&2
  exit 2
fi

markers=$(grep -n 'EXPECT-REPORT' "$fixture" | cut -d: -f1)
if [ "$(printf '%s\n' "$markers" | grep -c .)" != 1 ]; then
  echo "expect_failure: $fixture must carry exactly one EXPECT-REPORT marker (found: ${markers:-none})" >&2
  exit 2
fi
where="fixtures/$(basename "$fixture"):$markers"

log=$(mktemp "${TMPDIR:-/tmp}/expect_failure.XXXXXX")
trap 'rm -f "$log"' EXIT
"$@" >"$log" 2>&1
status=$?

problems=()
if [ "$status" -eq 0 ]; then
  problems+=("the run exited 0: this configuration cannot fail on its fixture")
elif [ -n "$want_status" ] && [ "$status" -ne "$want_status" ]; then
  problems+=("the run exited $status, not $want_status")
fi
grep -Eq -- "$kind" "$log" || problems+=("the report does not say /$kind/")
grep -Fq -- "$where" "$log" || problems+=("the report does not name $where")

if [ ${#problems[@]} -gt 0 ]; then
  echo "SELF-TEST FAILED: $*"
  printf '  - %s\n' "${problems[@]}"
  echo "---- report ----"
  head -c 20000 "$log"
  exit 1
fi
echo "self-test ok: $(basename "$1") failed with status $status; report says /$kind/ at $where"
grep -m1 -F -- "$where" "$log" | sed 's/^ */  evidence: /'
exit 0
