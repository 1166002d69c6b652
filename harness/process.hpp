// Child processes for multi-process runs: fork a function, reap every child with a deadline,
// kill and reap the stragglers, and say how each one ended.
#pragma once

#include "ipcverify/channel.hpp"

#include <functional>
#include <new>
#include <string>
#include <sys/mman.h>
#include <sys/types.h>

namespace ipcv::harness {

/// How one child ended.
struct ChildExit {
  pid_t pid = -1;
  bool exited = false; ///< exited normally with `code`
  int code = 0;
  int signal = 0;         ///< killed by this signal
  bool timed_out = false; ///< still running at the deadline; killed by the reaper
  /// CLOCK_MONOTONIC ns at which the reaper saw it ended (an upper bound on its end; the
  /// reaper polls every few ms at most), 0 when it was killed by the reaper.
  std::int64_t ended_ns = 0;
  bool interrupted = false; ///< killed because the run was interrupted (by the reaper, or by the
                            ///< same signal as this process, e.g. Ctrl-C to the process group)
  bool clean() const noexcept { return exited && code == 0; }
  /// "exit 0", "exit 3", "killed by SIGKILL", "hung: killed at the deadline".
  std::string describe() const;
};

/// The exit status of a child whose parent died before the child could tie itself to it.
inline constexpr int kExitOrphan = 124;

/// Forks a child that runs `body` and _exits with its return value (an uncaught exception is
/// exit 125). The child never returns into the caller's code; it dies with this process
/// (PR_SET_PDEATHSIG, SIGKILL), takes the default action on the interrupt signals, and is
/// registered for the emergency exit of interrupt.hpp until reap() reaps it. Returns the pid,
/// or -1 with errno.
pid_t spawn(const std::function<int()> &body);

/// Waits for every pid until `d`, or until `give_up` (asked between polls, when given) says
/// waiting longer is pointless, or until the run is interrupted (interrupt.hpp); the ones still
/// running then are SIGKILLed, reaped and marked timed_out (or interrupted). No zombie is left
/// behind. Results are in the order of `pids`.
std::vector<ChildExit> reap(const std::vector<pid_t> &pids, Deadline d,
                            const std::function<bool()> &give_up = {});

/// A SharedBlock is one T in an anonymous MAP_SHARED mapping, made before fork so that the
/// parent and its children see the same T. Throws std::bad_alloc when the mapping fails.
template <class T> class SharedBlock {
public:
  SharedBlock() {
    void *p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::bad_alloc();
    t_ = new (p) T{};
  }
  ~SharedBlock() {
    t_->~T();
    ::munmap(t_, sizeof(T));
  }
  SharedBlock(const SharedBlock &) = delete;
  SharedBlock &operator=(const SharedBlock &) = delete;
  T *operator->() const noexcept { return t_; }
  T &operator*() const noexcept { return *t_; }

private:
  T *t_;
};

/// "SIGSEGV" for SIGSEGV; "signal N" for a number with no name.
std::string signal_name(int sig);

/// A Barrier in a shared anonymous mapping: `n` processes or threads call arrive_and_wait();
/// all leave together. Made before fork. Waits on a shared futex, never sleeps a fixed time.
class Barrier {
public:
  explicit Barrier(unsigned n);
  ~Barrier();
  Barrier(const Barrier &) = delete;
  Barrier &operator=(const Barrier &) = delete;
  /// Returns false when `d` passed first (a participant died before arriving), or when a
  /// participant abandoned the barrier.
  bool arrive_and_wait(Deadline d) noexcept;
  /// For a participant that will never arrive (its set-up failed): every waiter, now and
  /// later, leaves with false at once instead of waiting out its deadline.
  void abandon() noexcept;

private:
  struct State;
  State *s_;
};

/// Every child of this process that has not been reaped yet, zombies included (from
/// /proc/self/task/*/children). Empty is the goal after every run.
std::vector<pid_t> live_children();

} // namespace ipcv::harness
