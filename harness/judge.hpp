// The judge: turns one case's RunResult into a verdict per spec, knowing what the run did
// (a hang, a planned crash, an unexpected exit) that the pure specs cannot know. Besides the
// catalog of specs/ it judges what only a run can show: `run` (every actor connected and
// exited as planned, no `error` result, no arena overflow, no actor killed by the watchdog): a
// channel that fails `run` broke the contract itself. Everything else is the catalog's: each
// spec reads from the history how a case ended (meta "crashed", "end_ns") and decides itself
// what that means for it. One rule is the claims': a case with a planned kill is judged by the
// other specs only where the channel claims crash-safety (its claims hold among the living).
#pragma once

#include "outcome.hpp"
#include "runner.hpp"

#include <string>
#include <vector>

namespace ipcv::harness {

/// The verdict of one spec on one case.
struct SpecOutcome {
  std::string spec;
  Outcome kind = Outcome::pass;
  bool claimed = false;    ///< the channel promises it (else it is measured, not failed)
  std::string explanation; ///< why it failed / was skipped, or what was observed
  std::string timeline;    ///< witness events of a failure, rendered
  /// skip: a reason to tell even where the spec held in other cases (a race report attributed
  /// to an uninstrumented library), not just the spec's not applying to this case
  bool told = false;
};

/// The spec that says what a planned kill may do (in the catalog).
inline constexpr const char *kCrashSafety = "crash-safety";
/// Names the engine judges beyond the catalog.
inline constexpr const char *kRun = "run";
/// Every channel owes it: a ThreadSanitizer build saw no data race in a case (skip in a
/// build without TSan, and in process mode, where TSan cannot see between processes).
inline constexpr const char *kRaceFree = "race-free";
/// Judged once per channel by its probes (harness/isolation.hpp), not per case. Like `run`,
/// every channel owes it: isolation is what the operating system promises before anything.
inline constexpr const char *kIsolation = "isolation";

/// True for the specs every channel owes whatever it claims: `run`, `isolation`, and the
/// catalog's specs marked owed (`deadline`).
bool always_claimed(const std::string &spec);

/// Every spec name the engine can judge for a channel: `run`, the catalog, `race-free`,
/// `isolation`.
std::vector<std::string> judgeable_specs();

/// True when the engine can judge a spec of this name (the catalog's, or one of its own).
bool judgeable(std::string_view spec);

/// Judges `r` for each name in `specs`.
std::vector<SpecOutcome> judge(const ChannelEntry &e, const RunResult &r,
                               const std::vector<std::string> &specs);

} // namespace ipcv::harness
