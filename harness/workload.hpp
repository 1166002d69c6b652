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

/// A Workload is one test case for a channel.
struct Workload {
  std::uint32_t senders = 1;
  std::uint32_t receivers = 1;
  std::uint32_t messages = 1;       ///< per sender
  std::vector<std::uint32_t> sizes; ///< cycled over a sender's messages; empty: 16 bytes
  bool try_ops = false;             ///< try_send/try_recv in a retry loop instead of blocking
  std::uint32_t pace_us = 0;        ///< pause between a sender's messages
  std::uint8_t perturb = 0;         ///< 0 none, 1 yields, 2 yields, spins and short sleeps
  std::uint64_t perturb_seed = 0;
  Placement placement = Placement::any;
  /// Crash plan: SIGKILL actor `crash_actor` (senders first, then receivers) at its
  /// `crash_at`-th operation, before the call or, with `crash_inside`, inside it (at the
  /// channel's next perturbation point or on a timer of up to 200 µs, whichever is first).
  std::optional<std::uint32_t> crash_actor;
  std::uint32_t crash_at = 0;
  bool crash_inside = false;

  std::uint32_t actors() const noexcept { return senders + receivers; }
  std::uint32_t size_of(std::uint64_t seq) const noexcept {
    return sizes.empty() ? 16 : sizes[seq % sizes.size()];
  }
};

/// The one-line text form, e.g. "s=2,r=1,m=8,z=16/4092,try=0,pace=0,pt=2:77,cpu=spread,crash=-".
std::string to_string(const Workload &w);
/// Parses the text form; nullopt (with `error` set) when it is not one.
std::optional<Workload> parse_workload(const std::string &text, std::string &error);

std::string to_string(Mode m);
std::string to_string(Placement p);

} // namespace ipcv::harness
