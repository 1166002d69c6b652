// A Workload fixes one test case of the engine: how many senders and receivers, how many
// messages of which sizes, blocking or try_ calls, pacing, a perturbation plan, CPU placement
// and a crash plan. It has a one-line text form, which is what a replay command carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipcv::harness {

/// Where actors run: real processes (fork) or threads of one process.
enum class Mode : std::uint8_t { process, thread };

/// Where actors are placed on CPUs. One core forces interleaving by preemption only; spread
/// puts actors on different cores so they really run at once (cache-line ping-pong, reordering).
enum class Placement : std::uint8_t { any, one_core, spread };

/// When a crash plan kills its actor, relative to the planned operation.
enum class CrashAt : std::uint8_t {
  before, ///< just before the call (the call never happens)
  inside, ///< inside the call: at the channel's next perturbation point or on a timer
  after,  ///< right after the call returned and was recorded (after a close: a clean close)
};

/// A Workload is one test case for a channel.
struct Workload {
  std::uint32_t senders = 1;
  std::uint32_t receivers = 1;
  std::uint32_t messages = 1;       ///< per sender
  std::vector<std::uint32_t> sizes; ///< cycled over a sender's messages; empty: 16 bytes
  bool try_ops = false;             ///< try_send/try_recv in a retry loop instead of blocking
  std::uint32_t pace_us = 0;        ///< pause between a sender's messages
  /// 0 none, 1 yields, 2 yields, spins and short sleeps, 3 as 2 with holds at hot points
  /// (perturb_plan.hpp)
  std::uint8_t perturb = 0;
  std::uint64_t perturb_seed = 0;
  Placement placement = Placement::any;
  /// Stall: actor `stall_actor` (senders first) stops for `stall_ms` before its `stall_at`-th
  /// operation: a slow peer, so that the others wait on an empty channel or a full one, long
  /// enough for their deadlines to pass while they wait.
  std::optional<std::uint32_t> stall_actor;
  std::uint32_t stall_at = 0;
  std::uint32_t stall_ms = 0;
  /// Deadline plan: this percentage of blocking calls gets a short deadline (already expired,
  /// now, 1, 5 or 20 ms, chosen per call from `deadline_seed`) instead of the case's; a send
  /// that times out gives its message up and goes on with the next one.
  std::uint8_t short_deadlines = 0;
  std::uint64_t deadline_seed = 0;
  /// Crash plan: SIGKILL actor `crash_actor` (senders first, then receivers) at its
  /// `crash_at`-th operation (a sender's close is operation `messages`): before the call,
  /// inside it (at the channel's next perturbation point or on a timer of up to 200 µs,
  /// whichever is first), or right after it returned.
  std::optional<std::uint32_t> crash_actor;
  std::uint32_t crash_at = 0;
  CrashAt crash_when = CrashAt::before;

  std::uint32_t actors() const noexcept { return senders + receivers; }
  std::uint32_t size_of(std::uint64_t seq) const noexcept {
    return sizes.empty() ? 16 : sizes[seq % sizes.size()];
  }
};

/// The one-line text form, e.g.
/// "s=2,r=1,m=8,z=16/4092,try=0,pace=0,pt=2:77,dl=30:5,stall=2@3:150,cpu=spread,crash=1@8a".
/// `dl` and `stall` are left out when unused; crash suffix i = inside, a = after.
std::string to_string(const Workload &w);
/// Parses the text form; nullopt (with `error` set) when it is not one.
std::optional<Workload> parse_workload(const std::string &text, std::string &error);

std::string to_string(Mode m);
std::string to_string(Placement p);

} // namespace ipcv::harness
