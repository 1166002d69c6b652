// Implementation of the peer table (see peers.hpp).
#include "peers.hpp"
#include "../os.hpp"
#include "annotate.hpp"

#include <unistd.h>

namespace ipcv::shm {

Expected<unsigned> join_side(PeerSide &side, unsigned limit) {
  IPCV_UNCHECKED(&side, sizeof side); // atomic words only
  // Reserve first, publish the pid after: a slot whose pid is still 0 counts as connecting,
  // so nobody declares the side gone while it is being filled in.
  const std::uint32_t slot = side.connected.fetch_add(1, std::memory_order_acq_rel);
  if (slot >= limit || slot >= kMaxEndpoints)
    return Status{Result::error, EMFILE, "more endpoints than the Config declared"};
  // SYNC POINT WRITE: peer pid
  // Without release a survivor could see the pid but not the slot reservation before it.
  IPCV_HAPPENS_BEFORE(&side.pid[slot]);
  side.pid[slot].store(static_cast<std::int32_t>(::getpid()), std::memory_order_release);
  return slot;
}

void leave_side(PeerSide &side, unsigned slot) noexcept {
  if (slot >= kMaxEndpoints)
    return;
  // SYNC POINT WRITE: endpoint closed
  // Without release a receiver could see "every sender closed", find the ring empty, and
  // return eof while the sender's last message (published before close) is still invisible.
  IPCV_HAPPENS_BEFORE(&side.closed[slot]);
  side.closed[slot].store(1, std::memory_order_release);
}

SideState look_at(const PeerSide &side, unsigned expected, bool check_alive) noexcept {
  SideState st;
  st.expected = expected;
  // Acquire pairs with join_side's acq_rel reservation: the slots counted are filled in order.
  std::uint32_t n = side.connected.load(std::memory_order_acquire);
  if (n > expected)
    n = expected; // join_side refuses endpoints beyond the declared count
  if (n > kMaxEndpoints)
    n = kMaxEndpoints;
  st.seen = n;
  for (std::uint32_t i = 0; i < n; ++i) {
    // SYNC POINT READ: endpoint closed
    // Pairs with leave_side: a closed flag seen here makes the closer's last message visible.
    const bool closed = side.closed[i].load(std::memory_order_acquire) != 0;
    IPCV_HAPPENS_AFTER(&side.closed[i]);
    if (closed)
      continue;
    // SYNC POINT READ: peer pid
    const pid_t pid = side.pid[i].load(std::memory_order_acquire);
    IPCV_HAPPENS_AFTER(&side.pid[i]);
    if (pid == 0 || !check_alive || os::process_alive(pid))
      ++st.open;
    else if (side.closed[i].load(std::memory_order_acquire) != 0)
      continue; // closed, then exited, between the two looks: a clean close, not a death
    else
      ++st.dead;
  }
  return st;
}

Result senders_done(const PeerSide &senders, unsigned expected, Deadline &next_look,
                    Clock::duration every) noexcept {
  const Deadline now = Clock::now();
  const bool alive = now >= next_look;
  if (alive)
    next_look = now + every;
  return look_at(senders, expected, alive).verdict();
}

} // namespace ipcv::shm
