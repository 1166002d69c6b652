// Implementation of the judge (judge.hpp).
#include "judge.hpp"
#include "races.hpp"

#include "specs/catalog.hpp"
#include "specs/timeline.hpp"

#include <fmt/format.h>

namespace ipcv::harness {
namespace {

using spec::Res;

std::vector<std::size_t> pending_events(const spec::History &h, std::optional<std::uint32_t> skip) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < h.events.size(); ++i)
    if (h.events[i].pending() && !(skip && h.events[i].pid == *skip + 1))
      out.push_back(i);
  if (out.size() > 8)
    out.resize(8);
  return out;
}

std::vector<std::size_t> events_where(const spec::History &h, auto pred) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < h.events.size() && out.size() < 8; ++i)
    if (pred(h.events[i]))
      out.push_back(i);
  return out;
}

/// A spec of the catalog on the case's history. How a spec treats killed actors and a case cut
/// short is the spec's own business: the history says which pids were killed on purpose (meta
/// "crashed") and when the case ended (meta "end_ns").
SpecOutcome from_catalog(const spec::Spec &s, bool claimed, const RunResult &r) {
  const spec::History &h = r.history;
  SpecOutcome o{std::string(s.name), Outcome::pass, claimed, "", ""};
  if (!spec::applies(s, h)) {
    o.kind = Outcome::skip;
    o.explanation = r.is_register ? "a register has no queue operations"
                                  : "no register operations in a queue history";
    return o;
  }
  const spec::Verdict v = s.check(h, spec::Params{});
  o.explanation = v.explanation;
  if (v.kind == spec::Verdict::fail) {
    o.kind = Outcome::fail;
    o.timeline = spec::render_timeline(h, v.witnesses);
    if (!r.hang_note.empty())
      o.explanation = r.hang_note + ": " + o.explanation;
  } else if (v.kind == spec::Verdict::unknown) {
    o.kind = Outcome::skip;
  }
  return o;
}

/// `run`: every actor connected and exited as planned, no call returned `error`, nothing hung.
SpecOutcome judge_run(const RunResult &r) {
  SpecOutcome o{kRun, Outcome::pass, true, "", ""};
  const spec::History &h = r.history;
  auto errors = events_where(h, [](const spec::Event &ev) { return ev.res == Res::error; });
  if (!r.run_error.empty()) {
    o.kind = Outcome::fail;
    o.explanation = r.run_error;
    o.timeline = spec::render_timeline(h, pending_events(h, r.crashed));
  } else if (!errors.empty()) {
    o.kind = Outcome::fail;
    o.explanation = "a call returned error (line up with the timeline)";
    o.timeline = spec::render_timeline(h, errors);
  }
  return o;
}

/// `race-free`: the ThreadSanitizer build saw no data race in the case's processes.
SpecOutcome judge_race_free(const RunResult &r, Mode mode) {
  SpecOutcome o{kRaceFree, Outcome::pass, true, "", ""};
  if (const std::string lib = uninstrumented_module(r.race_report); !lib.empty()) {
    // Neither a pass nor the channel's failure: said, with the report's summary, in the cell.
    const auto at = r.race_report.find("SUMMARY: ");
    o.kind = Outcome::skip;
    o.told = true;
    o.explanation = fmt::format(
        "not judged: ThreadSanitizer reported a race inside {0}, which is not built with "
        "ThreadSanitizer (its own synchronisation is invisible to it, so the report cannot be "
        "told from a false one); attributed to {0}, not to the channel{1}",
        lib,
        at == std::string::npos
            ? std::string()
            : ": " + r.race_report.substr(at + 9, r.race_report.find('\n', at) - at - 9));
  } else if (!r.race_report.empty()) {
    o.kind = Outcome::fail;
    o.explanation = "ThreadSanitizer reported a data race in the channel's code";
    o.timeline = r.race_report + "\n";
  } else if (!race_checking()) {
    o.kind = Outcome::skip;
    o.explanation = "this build has no ThreadSanitizer: run the TSan build (make verify-tsan) "
                    "with --mode thread";
  } else if (mode == Mode::process) {
    o.kind = Outcome::skip;
    o.explanation = "ThreadSanitizer sees races between the threads of one process only: run "
                    "with --mode thread";
  }
  return o;
}

} // namespace

bool always_claimed(const std::string &spec) {
  if (spec == kRun || spec == kIsolation || spec == kRaceFree)
    return true;
  const spec::Spec *s = spec::find_spec(spec);
  return s != nullptr && s->owed;
}

std::vector<std::string> judgeable_specs() {
  std::vector<std::string> out{kRun};
  for (const auto &s : spec::catalog())
    out.emplace_back(s.name);
  out.emplace_back(kRaceFree);
  out.emplace_back(kIsolation);
  return out;
}

bool judgeable(std::string_view spec) {
  return spec == kRun || spec == kIsolation || spec == kRaceFree ||
         spec::find_spec(spec) != nullptr;
}

std::vector<SpecOutcome> judge(const ChannelEntry &e, const RunResult &r,
                               const std::vector<std::string> &specs) {
  std::vector<SpecOutcome> out;
  for (const auto &name : specs) {
    const bool claimed = always_claimed(name) || e.claims.promises(name);
    if (name == kRun) {
      out.push_back(judge_run(r));
    } else if (name == kRaceFree) {
      out.push_back(judge_race_free(r, r.mode));
    } else if (name == kIsolation) {
      out.push_back(
          {name, Outcome::skip, claimed, "judged once per channel by the isolation probes", ""});
    } else if (r.crashed && name != kCrashSafety && !e.claims.promises(kCrashSafety)) {
      // A channel's claims hold among live participants; what a kill does to them is the
      // crash-safety claim, measured (not failed) where the channel does not make it.
      out.push_back({name, Outcome::skip, claimed,
                     "a participant was killed and the channel does not claim crash-safety", ""});
    } else if (const spec::Spec *s = spec::find_spec(name)) {
      out.push_back(from_catalog(*s, claimed, r));
    } else {
      out.push_back({name, Outcome::skip, claimed, "no such spec", ""});
    }
  }
  return out;
}

} // namespace ipcv::harness
