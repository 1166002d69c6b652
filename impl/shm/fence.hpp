// Asymmetric fences for the wake-up protocol of wait.hpp. A notifier runs on every send and
// receive; a waiter runs only before a futex sleep. The protocol needs a store-load fence on
// both sides (a Dekker pattern), and on x86 the notifier's `mfence` after publishing its index
// costs a whole cache-line transfer per message: the store of the index must leave the store
// buffer, and the other side holds the line. That fence alone cut shm-spsc 64 B streaming
// from ~30 M to ~4.8 M messages/s on this machine.
//
// The same fence is also what makes a channel linearizable in real time: without it, send
// returns while its index still sits in the store buffer, and a try_recv called after that
// return can find the ring empty. The engine caught exactly that (VWit, a receive returning
// empty 30 ns after the send returned) when the fence was first removed everywhere. So the
// reference channels keep it (`notify_fence`), and only a channel that does not claim
// `linearizable` (shm-spsc-relaxed) skips it (`notify_fence_relaxed`).
//
// Skipping it safely moves the cost to the rare side, as userspace RCU and folly's asymmetric
// barrier do: a process registers for MEMBARRIER_CMD_GLOBAL_EXPEDITED when it connects an
// endpoint; from then on its relaxed notifiers need only a compiler barrier, and every waiter
// issues membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) after announcing itself. That call makes
// every running thread of every registered process pass a full memory barrier before it
// returns (a thread not running has passed one at its context switch). Either the notifier's
// load of `waiters` comes after that barrier (it sees the announcement and wakes), or it came
// before, and then so did its earlier store of the index, which the barrier made visible to
// the waiter's re-try. Either way no wake-up is lost.
//
// Fallbacks keep the protocol sound: a kernel (or Valgrind) without the command leaves the
// process unregistered, and an unregistered notifier uses the full fence. After fork the child
// is unregistered (pthread_atfork clears the flag) until it connects an endpoint itself. The one
// unsafe mix is a registered notifier whose waiter cannot issue the call at all, i.e. the two
// sides on different kernels or one under Valgrind; there a wake-up can be late by one sleep
// slice (wait.hpp: kSlice), never lost for good.
#pragma once

#include <atomic>

namespace ipcv::shm {

namespace detail {
/// True while this process is registered for MEMBARRIER_CMD_GLOBAL_EXPEDITED.
inline std::atomic<bool> light_notify{false};
} // namespace detail

/// Registers this process (once per process; again after fork) so that its relaxed notifiers
/// may skip their fence. Returns whether they may. Called when an endpoint connects.
bool enable_light_notify() noexcept;

/// The notifier's half: between publishing a change and reading `waiters`. A full fence: the
/// change is visible to everyone before the call that made it returns.
inline void notify_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }

/// The same for a channel that does not claim linearizable: a compiler barrier in a registered
/// process, so the change becomes visible shortly after the call returns.
inline void notify_fence_relaxed() noexcept {
  if (detail::light_notify.load(std::memory_order_relaxed))
    std::atomic_signal_fence(std::memory_order_seq_cst);
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

/// The waiter's half: between announcing itself and re-trying. Forces a barrier on every
/// registered process's running threads, or is a plain fence where the kernel cannot.
void wait_fence() noexcept;

} // namespace ipcv::shm
