#!/usr/bin/env bash
# Hygiene of a whole run: records which IPC objects and processes exist before it, and after it
# fails if the run left any behind: a /dev/shm object, a POSIX message queue, a socket file
# under the run's temp dirs, or a process of its own (alive or zombie). Objects that existed
# before are not the run's and never fail it.
#
#   ci/hygiene.sh snapshot FILE   record the current state in FILE
#   ci/hygiene.sh compare FILE    exit 1 and list what exists now and did not at the snapshot
#
# A process is the run's own when its environment carries IPCV_RUN_ID=<id of this run> (set by
# ci/check.sh and inherited by every descendant, forked children included), or, when no run id
# is set, when it is named ipcverify, ipcbench, *_tests, *_fuzz or is a Valgrind tool process.
# Socket files are looked for under $TMPDIR (the run's own temp dir) and /tmp.
# Message queues are listed from /dev/mqueue, or, where it is not mounted, from a mount of the
# mqueue file system in a mount namespace of its own (needs root); if neither works that is
# said, and the rest is still checked.
set -uo pipefail

usage() { echo "usage: ci/hygiene.sh snapshot|compare FILE" >&2; exit 2; }
[ $# -eq 2 ] || usage
mode=$1 file=$2

NAME_RE='^(ipcverify|ipcbench|.*_tests|.*_fuzz|(memcheck|helgrind|drd)-.*)$'
SOCKET_DIRS=(/tmp)
if [ -n "${TMPDIR:-}" ] && [ -d "$TMPDIR" ] && [ "$(cd "$TMPDIR" && pwd -P)" != /tmp ]; then
  SOCKET_DIRS+=("$TMPDIR")
fi

# The processes of this script, its ancestors (the run itself) and its descendants (the tools it
# calls), are never leftovers.
ppid_of() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  set -- $stat
  echo "$2"
}
declare -A ANCESTORS=()
mark_self() {
  local p=$$
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    ANCESTORS[$p]=1
    p=$(ppid_of "$p") || break
  done
}
# is_self PID: PID is this script, one of its ancestors, or one of its descendants.
is_self() {
  local p=$1
  [ -n "${ANCESTORS[$p]:-}" ] && return 0
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    [ "$p" = $$ ] && return 0
    p=$(ppid_of "$p") || return 1
  done
  return 1
}

# list_mqueues: one queue name per line on stdout; returns 1 when queues cannot be listed.
list_mqueues() {
  if mountpoint -q /dev/mqueue 2>/dev/null; then
    ls -A /dev/mqueue
    return 0
  fi
  # A mount namespace of its own (util-linux unshare, private propagation): the mount over /tmp
  # is seen by that one command only and dies with it, so an interrupt leaves nothing mounted.
  unshare --mount --propagation private sh -c 'mount -t mqueue none /tmp && ls -A /tmp' 2>/dev/null
}

# state: one object per line, "kind key", sorted. Process keys are pid:starttime so a reused
# pid is a different process.
state() {
  local f
  for f in /dev/shm/* /dev/shm/.[!.]*; do
    [ -e "$f" ] && echo "shm $f"
  done
  if queues=$(list_mqueues); then
    printf '%s\n' "$queues" | sed -n 's|^\(.\+\)$|mqueue /\1|p'
  else
    echo "note cannot-list-mqueues"
  fi
  find /tmp -xdev -maxdepth 3 -type s 2>/dev/null | sed 's/^/socket /'
  if [ ${#SOCKET_DIRS[@]} -gt 1 ]; then
    find "${SOCKET_DIRS[1]}" -xdev -type s 2>/dev/null | sed 's/^/socket /'
  fi
  local dir pid stat comm rest st ppid start fields
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    { read -r stat <"$dir/stat"; } 2>/dev/null || continue
    comm=${stat#*(}; comm=${comm%)*}
    rest=${stat##*) }
    read -r -a fields <<<"$rest"
    st=${fields[0]} ppid=${fields[1]} start=${fields[19]}
    if [ -n "${IPCV_RUN_ID:-}" ]; then
      if grep -qaF "IPCV_RUN_ID=$IPCV_RUN_ID" "$dir/environ" 2>/dev/null; then
        is_self "$pid" || echo "proc $pid:$start $comm state=$st"
      elif [ "$st" = Z ] && [[ $comm =~ $NAME_RE ]]; then
        echo "proc $pid:$start $comm state=Z parent=$ppid"
      fi
    elif [[ $comm =~ $NAME_RE ]]; then
      is_self "$pid" || echo "proc $pid:$start $comm state=$st"
    fi
  done
}

# new_since FILE: the objects of the current state whose "kind key" is not in FILE.
new_since() {
  state | sort -u | while read -r kind key rest; do
    [ "$kind" = note ] && continue
    grep -qxF "$kind $key" <(cut -d' ' -f1,2 "$1") || echo "$kind $key $rest"
  done
}

# holders PATH: the processes that have PATH open or mapped, for the report.
holders() {
  local d out=""
  for d in /proc/[0-9]*; do
    if ls -l "$d/fd" 2>/dev/null | grep -qF -- "$1" || grep -qF -- "$1" "$d/maps" 2>/dev/null; then
      out+=" ${d#/proc/}($(cat "$d/comm" 2>/dev/null))"
    fi
  done
  echo "${out:- none}"
}

mark_self
case "$mode" in
  snapshot)
    state | sort -u >"$file"
    grep -q '^note cannot-list-mqueues' "$file" &&
      echo "hygiene: cannot list POSIX message queues (no /dev/mqueue and the mqueue file system cannot be mounted: not root?): queues are not checked"
    echo "hygiene: snapshot of $(grep -vc '^note' "$file") existing objects and processes in $file"
    ;;
  compare)
    [ -f "$file" ] || { echo "hygiene: no snapshot $file" >&2; exit 2; }
    left=$(new_since "$file")
    if [ -n "$left" ]; then
      # A process still exiting or an object another user is about to remove is not a leftover:
      # only what is still there a moment later counts.
      sleep 2
      again=$(new_since "$file")
      left=$(comm -12 <(sort <<<"$left" | cut -d' ' -f1,2) <(sort <<<"$again" | cut -d' ' -f1,2))
    fi
    if [ -z "$left" ]; then
      echo "hygiene: ok, the run left no shm object, message queue, socket file or process"
      exit 0
    fi
    echo "hygiene: FAILED, the run left behind:"
    while read -r kind key; do
      case "$kind" in
        shm | socket) echo "  $kind $key (open or mapped by:$(holders "$key"))" ;;
        proc) echo "  process $(grep -F "proc $key " <<<"$again" | cut -d' ' -f3-) pid ${key%%:*}" ;;
        *) echo "  $kind $key" ;;
      esac
    done <<<"$left"
    if grep -qE '^(shm|mqueue|socket) ' <<<"$left"; then
      echo "  (objects of a run that was killed outright: 'build/bin/ipcverify clean' removes every"
      echo "   ipcv-* object whose creator is gone; 'ipcverify clean --dry-run' lists them)"
    fi
    exit 1
    ;;
  *) usage ;;
esac
