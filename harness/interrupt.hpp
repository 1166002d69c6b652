// Interrupts and emergencies: what a run does when it is told to stop. The command-line tools
// install the handlers; the harness asks `interrupted()` between cases and while it waits for
// children, stops starting new work, kills and reaps every actor, destroys every instance, and
// reports what was judged so far. A second signal does not wait for that: the handler itself
// SIGKILLs every child still registered, removes every named OS object still registered, and
// exits at once. Everything it touches is registered here beforehand, in fixed-size tables
// that a signal handler can walk without allocating.
//
// Children also die with their parent when it is killed outright (SIGKILL, where no handler
// runs): spawn() sets PR_SET_PDEATHSIG in every child. Named objects outlive such a parent;
// `ipcverify clean` removes those whose creator is gone.
#pragma once

#include "ipcverify/channel.hpp"

#include <sys/types.h>
#include <vector>

namespace ipcv::harness {

/// Installs handlers for SIGINT, SIGTERM and SIGHUP in this process (the tools call it once).
/// The first signal sets the flag `interrupted()` reads; the second exits at once, after
/// killing every registered child and removing every registered named object.
void install_interrupt_handlers();

/// The signal that interrupted the run (SIGINT, SIGTERM, SIGHUP), or 0 while none came.
int interrupted() noexcept;

/// The exit status of a run interrupted by `signal`: 128 + signal (130 for SIGINT, 143 for
/// SIGTERM), as a shell reports a process killed by it.
constexpr int interrupted_status(int signal) noexcept { return 128 + signal; }

/// Registers a child so the emergency exit kills it; spawn() and reap() do this.
void track_child(pid_t pid) noexcept;
void untrack_child(pid_t pid) noexcept;

/// A Tracked is a set of named objects registered for the emergency exit while it lives.
class Tracked {
public:
  Tracked() = default;
  explicit Tracked(const std::vector<NamedObject> &objects);
  Tracked(Tracked &&o) noexcept;
  Tracked &operator=(Tracked &&o) noexcept;
  Tracked(const Tracked &) = delete;
  Tracked &operator=(const Tracked &) = delete;
  ~Tracked() { release(); }
  /// Stops tracking (the objects were destroyed the normal way).
  void release() noexcept;

private:
  std::vector<int> slots_;
};

/// Restores the default action of the interrupt signals; spawn() calls it in every child, so an
/// actor interrupted from the terminal dies at once and its parent reaps it.
void reset_interrupt_handlers_in_child() noexcept;

} // namespace ipcv::harness
