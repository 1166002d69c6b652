// The engine: a campaign of rapidcheck-generated workloads run against one channel in real
// processes (or threads), each history judged against the specs; a broken claim is shrunk to
// a minimal workload and comes back with its witness timeline and a one-line replay command.
#pragma once

#include "harness/judge.hpp"
#include "harness/workload.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ipcv::engine {

/// Options of one campaign.
struct Options {
  harness::Mode mode = harness::Mode::process;
  int cases = 0; ///< generated cases at most (shrinking not counted); 0: until the budget ends
  std::uint64_t seed = 1;
  /// Wall-clock budget of the campaign: probes, cases and shrinking; it ends within the
  /// budget plus one case, and a shrink cut short keeps the smallest failure found so far.
  /// The cases get at least half of it, after probes that took longer (a channel that hangs
  /// in them): such a campaign overruns by what the probes took beyond half the budget.
  double budget_s = 30;
  std::vector<std::string> specs; ///< specs to judge; empty: every judgeable spec
  bool crashes = true;            ///< include crash plans (process mode)
  std::chrono::milliseconds case_budget{2500};
  std::chrono::milliseconds bound{1000}; ///< bounded-wait bound
  std::chrono::milliseconds slack{100};  ///< deadline: how late a call may return
  /// Messages per sender of the long cases (bugs that show after many messages); 0: none.
  /// Long cases get at most a fifth of the budget.
  std::uint32_t max_messages = 100000;
  /// Called after each generated case: (cases done, claims broken so far).
  std::function<void(int, int)> progress;
};

/// A Counterexample is the minimal failing case found for one spec.
struct Counterexample {
  Counterexample() = default;
  Counterexample(harness::Workload w, std::string why, std::string events, bool cut = false)
      : workload(std::move(w)), explanation(std::move(why)), timeline(std::move(events)),
        shrink_cut(cut) {}
  harness::Workload workload;
  std::string explanation;
  std::string timeline;
  /// Shrinking stopped at the time budget (or an interrupt): the smallest failing workload
  /// found so far, not necessarily a minimal one.
  bool shrink_cut = false;
  int reproduced = -1;    ///< runs of `reruns` that broke the claim again when it was found
  int reruns = 0;         ///< runs made to see that: up to 5, ending once 4 broke it
  std::string note;       ///< why this workload rather than the smallest, when so
  bool in_probes = false; ///< found by the isolation probes: no workload, the probes replay it
};

/// The result of one spec on one channel: one cell of the verdict matrix.
struct SpecResult {
  /// The matrix's vocabulary: claimed and held, claimed and broken, not claimed (measured),
  /// not applicable, or not finished because the run was interrupted.
  enum Kind : std::uint8_t { pass, fail, not_claimed, skip, interrupted };
  std::string channel;
  std::string spec;
  Kind kind = pass;
  int cases = 0; ///< cases in which the spec was judged
  std::uint64_t seed = 0;
  std::string observed; ///< not-claimed: what was seen; skipped: why
  std::string replay;   ///< fail: the command that replays the counterexample
  std::optional<Counterexample> counterexample;
  /// fail: a known finding of a third-party channel, on record (its reason and link); the
  /// command line shows it as FAIL* and leaves it out of the exit status (tools/expected.hpp)
  std::string on_record;
};

std::string_view to_string(SpecResult::Kind k);

/// A CampaignResult is one channel's row of the verdict matrix and what the campaign did.
struct CampaignResult {
  std::vector<SpecResult> cells; ///< one per judged spec
  int cases = 0;                 ///< generated cases run (shrinking not counted)
  std::uint32_t longest = 0;     ///< the most messages per sender of one case run
  int out_of_time = 0;           ///< generated cases the harness stopped at the case deadline
  double seconds = 0;            ///< wall time, probes and shrinking included
};

/// Runs a campaign against `entry`.
CampaignResult run_campaign(const ChannelEntry &entry, const Options &o);

/// Runs `w` `attempts` times (a race need not show on every run), judging `spec`, and when no
/// attempt broke it on until the first that does, up to five times as many; the result fails
/// when any attempt broke it, and says how often: "reproduced 7 of 10".
SpecResult replay(const ChannelEntry &entry, const harness::Workload &w, const std::string &spec,
                  const Options &o, int attempts);

/// The attempts of a printed replay command (`run --workload`) unless `--attempts` says else.
inline constexpr int kReplayAttempts = 10;

/// The one-line command that replays a counterexample: the workload and every option that
/// shaped the case (mode, and the case budget, bound and slack when not the defaults).
std::string replay_command(const ChannelEntry &entry, const std::string &spec, const Options &o,
                           const harness::Workload &w);

} // namespace ipcv::engine
