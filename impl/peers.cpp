// Implementation of the peer table (see peers.hpp).
#include "peers.hpp"
#include "ipcverify/perturb.hpp"
#include "os.hpp"
#include "shm/annotate.hpp"

#include <unistd.h>

namespace ipcv {

Expected<unsigned> join_side(PeerSide &side, unsigned limit) {
  IPCV_UNCHECKED(&side, sizeof side); // atomic words only
  // Reserve first, publish the pid after: a slot whose pid is still 0 counts as connecting,
  // so nobody declares the side gone while it is being filled in. Relaxed is enough for the
  // reservation since it hands nothing over: a reader that counts this slot and reads pid 0
  // treats it as connecting, whatever order it sees the two words in.
  const std::uint32_t slot = side.connected.fetch_add(1, std::memory_order_relaxed);
  if (slot >= limit || slot >= kMaxEndpoints)
    return Status{Result::error, EMFILE, "more endpoints than the Config declared"};
  // Relaxed is enough for the pid too: it carries its own meaning (non-zero: this process
  // holds the slot) and nothing written before it is read through it.
  side.pid[slot].store(static_cast<std::int32_t>(::getpid()), std::memory_order_relaxed);
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

SideState look_at(const PeerSide &side, unsigned expected, bool check_alive,
                  CloseCheck how) noexcept {
  SideState st;
  st.expected = expected;
  // Relaxed is enough: a slot counted here whose pid still reads 0 is "connecting" (open), so
  // seeing the count before the pid can only make the side look busier, never gone.
  std::uint32_t n = side.connected.load(std::memory_order_relaxed);
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
    // Relaxed is enough: a pid is only compared with 0 and looked up in /proc.
    const pid_t pid = side.pid[i].load(std::memory_order_relaxed);
    if (pid == 0 || !check_alive) {
      ++st.open;
      continue;
    }
    // The window of the race in peers.hpp: the endpoint may close and exit right here.
    IPCV_PERTURB_POINT("peers.between_closed_and_alive");
    if (os::process_alive(pid))
      ++st.open;
    else if (how == CloseCheck::twice && side.closed[i].load(std::memory_order_acquire) != 0)
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

} // namespace ipcv
