// The runner: one Workload × one channel → real processes (or threads of one process) → a
// History. Actors start together on a barrier, record into the shared arena, and are bounded
// by a watchdog: a hung case is killed, every child reaped, every OS object destroyed.
#pragma once

#include "guard.hpp"
#include "process.hpp"
#include "workload.hpp"

#include "ipcverify/any_channel.hpp"
#include "ipcverify/plugin.hpp"
#include "specs/history.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ipcv::harness {

class Arena;

/// How many times slower a case runs in this build: ThreadSanitizer instruments every access
/// and takes a lock per atomic operation (a long case ran about 8 times slower in thread mode);
/// ASan with UBSan, built at -O0, about 3.
inline constexpr int kSanitizerSlowdown = this_build().sanitizer == Sanitizer::thread    ? 8
                                          : this_build().sanitizer == Sanitizer::address ? 3
                                                                                         : 1;

/// RunOptions bound one case.
struct RunOptions {
  Mode mode = Mode::process;
  /// Deadline of every blocking call, and the watchdog's limit (plus a grace period).
  std::chrono::milliseconds budget{2500};
  /// The bounded-wait bound written into the history's meta line.
  std::chrono::milliseconds bound{1000};
  /// How late a call may return after its deadline (the deadline spec), into the meta line.
  std::chrono::milliseconds slack{100};
  /// Added to the case deadline per message of the case (long cases need the time): 50 µs,
  /// times the slowdown of this build's sanitizer (kSanitizerSlowdown).
  std::chrono::microseconds per_message{50 * kSanitizerSlowdown};
  /// How long a call into the channel in this process (prepare, destroy, ...) may take.
  std::chrono::milliseconds parent_call_limit = kParentCallLimit;
};

/// A RunResult is what one case produced.
struct RunResult {
  spec::History history;
  std::vector<ChildExit> exits; ///< process mode: one per actor; thread mode: the host
  bool hung = false;            ///< the watchdog had to kill someone
  /// An actor stopped because the case deadline passed (meta "cut_ns"): the harness, not the
  /// channel, ended the case, so what was still in the channel is not owed (no-loss)
  bool out_of_time = false;
  std::uint32_t holds = 0;  ///< holds the perturbation plan made (level 3, perturb_plan.hpp)
  bool interrupted = false; ///< the run was interrupted: nothing here is evidence
  std::optional<std::uint32_t> crashed; ///< actor killed by the crash plan, as planned
  std::string run_error;                ///< setup failure, arena overflow, an unexpected exit
  std::string race_report; ///< a ThreadSanitizer build: the first race report of the case
  std::string hang_note;   ///< why the case was stopped before the watchdog, if so
  /// The channel failed in this process (crashed, hung or threw in prepare, named_objects,
  /// detach or destroy; guard.hpp): run_error says how, and no case of it runs again here.
  bool abandoned = false;
  bool is_register = false;  ///< write/read events instead of send/recv
  Mode mode = Mode::process; ///< how the actors ran
};

/// Runs `w` against a fresh instance of `entry` and returns the history. Never throws for a
/// misbehaving channel; always destroys the instance and reaps every child. What the channel
/// does wrong is its `run` failure (run_error), never a crash or hang of the caller: the calls
/// into it in this process are guarded (guard.hpp); an actor that crashes, throws out of a
/// noexcept call or fails to connect is named with its last call; a receive whose size exceeds
/// the buffer or the claimed maximum is an error, never read; a named object that destroy left
/// is removed and reported, and so is a descriptor or child process it left in this process.
RunResult run_case(const ChannelEntry &entry, const Workload &w, const RunOptions &o);

/// Whether a blocking receiver of `w` is stuck: every sender closed (its close returned ok)
/// and the receiver's pending recv has waited more than `bound` + 10 ms since then (or since it
/// was called). That call fails bounded-wait however long it waits on, so the runner stops the
/// case there instead of at the watchdog. Returns what it saw, or nothing.
std::optional<std::string> stuck_receiver(const Workload &w, const Arena &arena, bool reg,
                                          std::chrono::milliseconds bound);

/// SendsOverTime remembers how many sends had returned ok at each of the watchdog's looks, so
/// it can say how many had certainly returned by an earlier time.
class SendsOverTime {
public:
  void sample(std::int64_t now_ns, std::uint64_t sends_ok);
  /// Sends that had returned ok by `t_ns`: the count of the latest look at or before it (0
  /// before the first).
  std::uint64_t by(std::int64_t t_ns) const;

private:
  std::vector<std::pair<std::int64_t, std::uint64_t>> looks_;
};

/// Whether a blocking receiver of `w` waits beside a message: it has been in recv for more than
/// `bound` + 10 ms, and more messages had returned from send ok by the start of that span
/// (`sends`) than have been received by anyone since, so one of them was in the channel the
/// whole time. Only for a channel that promises no-loss (else the message may be lost, not
/// waiting) and a case without a crash plan. That call fails bounded-wait however long it
/// waits on (a lost wake-up in mid-stream), so the runner stops the case there instead of at
/// its deadline. Returns what it saw, or nothing.
std::optional<std::string> receiver_beside_a_message(const Workload &w, const Arena &arena,
                                                     bool lossless, std::chrono::milliseconds bound,
                                                     const SendsOverTime &sends);

/// Whether a survivor of the crash plan of `w` is certain to fail crash-safety: actor
/// `victim` was seen dead at `dead_ns`, every other sender has closed with ok (a sender victim)
/// or the victim was the only receiver, and a survivor on the other side has been in a call
/// since before the later of its call and `dead_ns` plus `notice` (the channel's peer_notice)
/// plus `slack` plus 10 ms: it never learnt of the death in time, however long it waits on.
/// The runner stops the case there instead of at the case deadline. Returns what it saw.
std::optional<std::string> survivor_unaware(const Workload &w, const Arena &arena,
                                            std::uint32_t victim, std::int64_t dead_ns,
                                            std::chrono::nanoseconds notice,
                                            std::chrono::milliseconds slack);

/// Short name of an actor: "sender 1", "receiver 2" (1-based within its role).
std::string actor_name(const Workload &w, std::uint32_t actor);

} // namespace ipcv::harness
