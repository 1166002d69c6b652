// Process-shared futex calls on a std::atomic<std::uint32_t>: sleep while the word holds an
// expected value, for at most a duration or until a Deadline, and wake some or all sleepers.
// FUTEX_WAIT / FUTEX_WAKE without FUTEX_PRIVATE_FLAG, because the waiters of the shm channels,
// the faulty fixtures and the harness's barrier live in different processes that map the word
// at different addresses; the kernel then keys the futex by the page, not by the address.
//
// A wait is one FUTEX_WAIT: it may end early (a wake meant for another state, a signal, a
// spurious wake-up), so every caller re-reads the word, re-checks its condition and waits
// again; wait_while is that loop for callers whose whole condition is the word itself. A wait
// until a Deadline sleeps for the time left on the steady clock (CLOCK_MONOTONIC), recomputed
// at each call, so a retry after EINTR never extends the deadline.
#pragma once

#include "ipcverify/channel.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ipcv::futex {

static_assert(sizeof(std::atomic<std::uint32_t>) == 4 &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "futex words must be plain lock-free 32-bit integers");

/// A Wake is why one wait returned. In every case but `expired` the word may have changed.
enum class Wake : std::uint8_t {
  woken,       ///< a FUTEX_WAKE reached this sleeper (or the kernel woke it spuriously)
  not_equal,   ///< the word no longer held `expected`: the wait did not sleep
  interrupted, ///< a signal handler ran (EINTR)
  timed_out,   ///< slept the whole duration
  expired,     ///< the duration was not positive or the deadline had passed: no sleep at all
};

/// Sleeps while `word == expected`, at most `rel`; one FUTEX_WAIT, shared between processes.
inline Wake wait_for(const std::atomic<std::uint32_t> &word, std::uint32_t expected,
                     Clock::duration rel) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rel).count();
  if (ns <= 0)
    return Wake::expired;
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  if (::syscall(SYS_futex, reinterpret_cast<const std::uint32_t *>(&word), FUTEX_WAIT, expected,
                &ts, nullptr, 0) == 0)
    return Wake::woken;
  switch (errno) {
  case EAGAIN:
    return Wake::not_equal;
  case EINTR:
    return Wake::interrupted;
  case ETIMEDOUT:
    return Wake::timed_out;
  default:
    return Wake::woken; // EFAULT or EINVAL: a misuse; callers re-check as after any wake-up
  }
}

/// Sleeps while `word == expected`, until `d` at the latest; one FUTEX_WAIT (see wait_for).
inline Wake wait_until(const std::atomic<std::uint32_t> &word, std::uint32_t expected,
                       Deadline d) noexcept {
  return wait_for(word, expected, d - Clock::now());
}

/// Waits until `word != expected` (read with acquire, so the waker's writes before it changed
/// the word are visible) or `d` passes; absorbs early wake-ups and EINTR. False when `d` passed
/// with the word unchanged.
inline bool wait_while(const std::atomic<std::uint32_t> &word, std::uint32_t expected,
                       Deadline d) noexcept {
  while (word.load(std::memory_order_acquire) == expected)
    if (wait_until(word, expected, d) == Wake::expired)
      return false;
  return true;
}

/// Wakes at most `n` sleepers of `word`; returns how many were woken. Call after changing the
/// word: a sleeper that has not yet slept then finds it changed and does not sleep.
inline int wake(std::atomic<std::uint32_t> &word, int n) noexcept {
  return static_cast<int>(::syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&word), FUTEX_WAKE,
                                    n, nullptr, nullptr, 0));
}

/// Wakes every sleeper of `word`; returns how many were woken.
inline int wake_all(std::atomic<std::uint32_t> &word) noexcept { return wake(word, INT_MAX); }

} // namespace ipcv::futex
