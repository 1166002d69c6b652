// Blocking for the shm channels: spin briefly, then sleep on a futex in the shared region
// (FUTEX_WAIT / FUTEX_WAKE without FUTEX_PRIVATE_FLAG through ../futex.hpp, since the waiters
// are in different processes), with no lost wake-ups, and look at the peers between sleeps.
//
// Protocol of one WaitWord {seq, waiters}. The waiter announces itself (waiters += 1), issues
// a seq_cst fence, reads `seq`, re-tries its operation, and only then sleeps with
// FUTEX_WAIT(seq, value read). The notifier publishes its change, issues a seq_cst fence, and
// bumps `seq` + FUTEX_WAKEs only when `waiters` is non-zero. Either the notifier's fence comes
// first in the single total order (then the waiter's re-try sees the change) or the waiter's
// does (then the notifier sees the waiter, bumps seq, and the kernel either finds seq changed
// and refuses to sleep or wakes the sleeper). So a notifier with no waiter pays one fence.
//
// That fence is also what makes the channels linearizable in real time: it drains the store
// buffer, so a send's index is visible to everyone before the send returns. A version that
// moved it to the waiter (membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), as userspace RCU does)
// was tried: the engine caught shm-spsc × linearizable in 5 of 8 runs of 300 cases (a
// try_recv returned empty 30 ns after the message's send returned), and on a quiet machine
// it streamed no faster (31 vs 30 M msgs/s at 64 B). So the fence stays.
//
// Spin: kSpin = 4 µs of polling before the first sleep. On this machine a shared cache-line
// round trip costs ~85 ns when idle (up to 2-4 µs when its two cores are busy) and a futex
// wake reaches a sleeping process after ~4.5-8 µs, so spinning about as long as one wake
// costs catches a peer that answers in a few round trips, and never costs more than twice the
// sleep it tries to avoid (the classic competitive bound).
//
// Sleeps last at most kSlice; after each the peers are looked at, so a dead peer is noticed
// within kSlice plus one /proc read per peer.
#pragma once

#include "../futex.hpp"
#include "annotate.hpp"
#include "ipcverify/channel.hpp"
#include "ipcverify/perturb.hpp"

#include <atomic>
#include <cstdint>

namespace ipcv::shm {

/// A WaitWord is a futex sequence plus a count of sleepers, on its own cache line.
struct alignas(64) WaitWord {
  std::atomic<std::uint32_t> seq{0};
  std::atomic<std::uint32_t> waiters{0};
};

inline constexpr auto kSpin = std::chrono::microseconds(4);
inline constexpr auto kSlice = std::chrono::milliseconds(5);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Sleeps while `w.seq == expected`, at most `rel` (FUTEX_WAIT, shared between processes).
inline void futex_sleep(WaitWord &w, std::uint32_t expected, Clock::duration rel) noexcept {
  futex::wait_for(w.seq, expected, rel); // why it woke does not matter: block_on re-tries
}

/// Wakes every sleeper of `w` unconditionally (used by close, which is rare).
inline void wake_all(WaitWord &w) noexcept {
  // SYNC POINT WRITE: wake sequence
  // A waiter that reads the new value (acquire) sees everything published before the wake;
  // without release it could wake, re-try, and still see the old state.
  IPCV_HAPPENS_BEFORE(&w.seq);
  w.seq.fetch_add(1, std::memory_order_seq_cst);
  futex::wake_all(w.seq);
}

/// Tells the sleepers of `w` that the state they wait for may have changed; call after the
/// change is published. Costs one fence when nobody sleeps.
inline void notify(WaitWord &w) noexcept {
  // SYNC POINT READ: waiter announcement
  // Without this fence the load of `waiters` may pass the publishing store (store-load
  // reordering, which x86 does): the notifier reads 0 while a waiter that has announced
  // itself reads the old state and sleeps through the change (until its slice ends). No
  // happens-before annotation: a fence pair hands no memory over, and claiming an edge here
  // could hide a missing one at the ring (sanitizer_runs/README.md).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (w.waiters.load(std::memory_order_relaxed) != 0)
    wake_all(w);
}

/// Runs `attempt` until it returns something other than `again` (or Result::timeout, which an
/// attempt uses for "the state is in flux, retry"), spinning kSpin first, then sleeping on `w`
/// in slices of kSlice until `d`. Between sleeps `gone(check_alive)` says whether the other
/// side can still act (ok) or not (eof / peer_gone); it is asked before a last attempt, so a
/// message published before the peer closed is still delivered.
template <class R, class Attempt, class Gone>
R block_on(WaitWord &w, Deadline d, Result again, Attempt &&attempt, Gone &&gone) noexcept {
  auto pending = [again](const R &r) { return r.result == again || r.result == Result::timeout; };
  R r = attempt();
  if (!pending(r))
    return r;
  const Deadline spin_end = Clock::now() + kSpin;
  while (Clock::now() < spin_end) {
    for (int i = 0; i < 16; ++i)
      cpu_relax();
    r = attempt();
    if (!pending(r))
      return r;
  }
  Deadline next_alive_check{};
  for (;;) {
    const Deadline now = Clock::now();
    const bool check_alive = now >= next_alive_check;
    if (check_alive)
      next_alive_check = now + kSlice;
    const Result g = gone(check_alive, r);
    r = attempt();
    if (!pending(r))
      return r;
    if (g != Result::ok)
      return R{Status{g}};
    if (Clock::now() >= d)
      return R{Status{Result::timeout}};
    w.waiters.fetch_add(1, std::memory_order_relaxed);
    // SYNC POINT WRITE: waiter announcement
    // Without this fence the re-try below may read the state before `waiters` is visible:
    // the notifier then skips the wake and this waiter sleeps through the change. Not
    // annotated (see notify).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // SYNC POINT READ: wake sequence
    const std::uint32_t seen = w.seq.load(std::memory_order_acquire);
    IPCV_HAPPENS_AFTER(&w.seq);
    IPCV_PERTURB_POINT("shm.wait.announced");
    r = attempt();
    if (!pending(r)) {
      w.waiters.fetch_sub(1, std::memory_order_relaxed);
      return r;
    }
    auto left = d - Clock::now();
    futex_sleep(w, seen, left < kSlice ? left : Clock::duration(kSlice));
    w.waiters.fetch_sub(1, std::memory_order_relaxed);
  }
}

} // namespace ipcv::shm
