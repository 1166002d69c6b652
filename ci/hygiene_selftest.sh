#!/usr/bin/env bash
# Self-test of ci/hygiene.sh: after a snapshot, plants one leftover of each kind (a /dev/shm
# object, a POSIX message queue, a socket file in the run's temp dir, a stray process named
# like a test binary, and a zombie) and requires the comparison to FAIL naming each of them;
# then removes them and requires it to pass. A hygiene check that cannot fail is worse than none.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/hygiene-selftest.XXXXXX")
export TMPDIR=$work
export IPCV_RUN_ID="hygiene-selftest-$$-$RANDOM"
tag="ipcv-hygiene-selftest-$$"
shm=/dev/shm/$tag
sock=$work/$tag.sock
stray="" keeper=""

# Where queues show as files: /dev/mqueue, or a private mount of the mqueue file system.
mq_dir="" mq_mnt=""
if mountpoint -q /dev/mqueue 2>/dev/null; then
  mq_dir=/dev/mqueue
elif mq_mnt=$(mktemp -d /tmp/hygiene-selftest-mq.XXXXXX) && mount -t mqueue none "$mq_mnt" 2>/dev/null; then
  mq_dir=$mq_mnt
else
  rmdir "$mq_mnt" 2>/dev/null
  mq_mnt=""
fi

remove_planted() {
  # The keeper reaps its zombie on SIGUSR1 before it exits: killed outright, it would hand
  # the zombie to init, which on some containers never reaps it.
  [ -n "$keeper" ] && kill -USR1 "$keeper" 2>/dev/null && wait "$keeper" 2>/dev/null
  [ -n "$stray" ] && kill -KILL "$stray" 2>/dev/null && wait "$stray" 2>/dev/null
  keeper="" stray=""
  rm -f "$shm" "$sock"
  [ -n "$mq_dir" ] && rm -f "$mq_dir/$tag"
}
cleanup() {
  remove_planted
  if [ -n "$mq_mnt" ]; then umount "$mq_mnt" && rmdir "$mq_mnt"; fi
  rm -rf "$work"
}
trap cleanup EXIT

ci/hygiene.sh snapshot "$work/before" >/dev/null || exit 1

expect=()
echo planted >"$shm" && expect+=("$shm")
if [ -n "$mq_dir" ]; then
  # Creating a file in the mqueue file system creates a queue.
  touch "$mq_dir/$tag" && expect+=("mqueue /$tag")
else
  echo "hygiene self-test: the mqueue file system cannot be mounted here: no queue planted"
fi
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die "$!\n"' "$sock" &&
  expect+=("$sock")
cp /bin/sleep "$work/plant_tests" && cp /bin/true "$work/zomb_tests"
"$work/plant_tests" 300 &
stray=$!
expect+=("plant_tests")
# A parent that does not reap: its child stays a zombie until SIGUSR1.
perl -e '$SIG{USR1} = sub { waitpid($kid, 0); exit 0 };
         $kid = fork // die; exec $ARGV[0] or die unless $kid;
         sleep 1 while 1' "$work/zomb_tests" &
keeper=$!
expect+=("zomb_tests state=Z")
sleep 0.5

out=$(ci/hygiene.sh compare "$work/before")
status=$?
problems=()
[ "$status" -eq 1 ] || problems+=("compare exited $status with leftovers planted, not 1")
for e in "${expect[@]}"; do
  grep -qF -- "$e" <<<"$out" || problems+=("compare did not name the planted '$e'")
done

remove_planted
out_clean=$(ci/hygiene.sh compare "$work/before")
status_clean=$?
[ "$status_clean" -eq 0 ] || problems+=("compare exited $status_clean after the leftovers were removed, not 0")

if [ ${#problems[@]} -gt 0 ]; then
  echo "HYGIENE SELF-TEST FAILED"
  printf '  - %s\n' "${problems[@]}"
  printf -- '---- with leftovers ----\n%s\n---- after removing them ----\n%s\n' "$out" "$out_clean"
  exit 1
fi
echo "hygiene self-test ok: each of ${#expect[@]} planted leftovers named, and the clean state passes:"
sed 's/^/  | /' <<<"$out"
