// rapidcheck generators of workloads, shared by the property tests and `ipcverify run`.
// Every generated workload stays within the channel's claims, and shrinks toward fewer
// processes, fewer and smaller messages, no perturbation and no crash.
#pragma once

#include "harness/workload.hpp"
#include "ipcverify/channel.hpp"

#include <rapidcheck.h>

namespace ipcv::gen {

/// What the generator may produce for one channel in one mode.
struct WorkloadSpace {
  Claims claims;
  harness::Mode mode = harness::Mode::process;
  bool crashes = true;          ///< include crash plans (process mode only)
  std::uint32_t max_actors = 3; ///< per side
  std::uint32_t max_messages = 64;
  /// When non-zero, a long case: up to this many messages per sender (small messages, pacing
  /// and long perturbation sleeps off), for bugs that show only after many messages. The
  /// campaign decides which cases are long.
  std::uint32_t long_messages = 0;
};

/// Workloads for a channel with these claims.
rc::Gen<harness::Workload> workload(const WorkloadSpace &space);

/// Directed cases, run first in every campaign: a class of bug that random cases reach only
/// by a rare combination, each in one small workload that shows it on every run if the
/// channel has it (those `space` allows: its claims, its mode, its crash plans).
///  - every call with a short deadline while the one sender stalls 250 ms before its first
///    send and before its close: receives on an empty channel whose deadlines pass while
///    nothing wakes them (a call that sleeps past its deadline);
///  - the same while the receiver stalls with the channel full: sends whose deadlines pass;
///  - where crash-safety is claimed (process mode, crash plans on): the sender killed before
///    its first call, and the receiver killed before its first with the channel to be filled,
///    so a survivor waits on a dead peer and must learn of it within the channel's notice.
std::vector<harness::Workload> directed_workloads(const WorkloadSpace &space);

} // namespace ipcv::gen

namespace ipcv::harness {
/// Shows a workload in its one-line text form in rapidcheck's counterexamples (found by ADL).
inline void showValue(const Workload &w, std::ostream &os) { os << to_string(w); }
} // namespace ipcv::harness
